"""Read-side results kept on the state: computed once per event, through its public API."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import nowserving
from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.events import Kind
from nowserving.domain.state import OfficeState
from nowserving.domain.views import office
from nowserving.system.paths import sample_config
from tests.domain.builders import Log

CONFIG: OfficeConfig = load_config(sample_config())


def test_what_the_estimates_need_is_worked_out_once_per_event() -> None:
    log = Log()
    log.add(Kind.COUNTER_OPENED, counter=CONFIG.counters[0].id)
    log.issue("permits")
    first = office(log.state, CONFIG)
    assert office(log.state, CONFIG) is first  # kept: a second read costs nothing
    log.add(Kind.COUNTER_OPENED, counter=CONFIG.counters[1].id)
    again = office(log.state, CONFIG)
    assert again is not first and again != first  # an event drops it: never stale


def test_derived_keeps_one_result_per_type_until_the_next_event() -> None:
    state = OfficeState("2026-11-24")
    runs: list[int] = []

    def work() -> list[int]:
        runs.append(1)
        return [len(runs)]

    assert state.derived(list, work) == [1]
    assert state.derived(list, work) == [1] and len(runs) == 1


def test_nothing_outside_the_projection_reads_the_states_private_fields() -> None:
    private = {f.name for f in fields(OfficeState) if f.name.startswith("_")}
    assert private  # what this guards: the indexes and the derived results
    root = Path(nowserving.__file__).parent
    readers = [
        f"{path.relative_to(root)}:{node.lineno} .{node.attr}"
        for path in sorted(root.rglob("*.py"))
        if path != root / "domain" / "state.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert readers == [], "use OfficeState's methods (e.g. `derived`) instead"
