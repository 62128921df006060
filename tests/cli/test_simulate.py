"""The simulated office: deterministic, realistic enough, and the estimates hold."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nowserving.cli.simulate import simulate_office
from nowserving.domain.config import OfficeConfig
from nowserving.store.eventstore import EventStore

DAY = date(2026, 11, 4)


def test_the_same_seed_plays_the_same_day(config: OfficeConfig, tmp_path: Path) -> None:
    first = simulate_office(EventStore(tmp_path / "a.sqlite"), config, DAY, seed=7)
    second = simulate_office(EventStore(tmp_path / "b.sqlite"), config, DAY, seed=7)
    assert [(e.line, e.low, e.high, e.waited) for e in first.estimates] == [
        (e.line, e.low, e.high, e.waited) for e in second.estimates
    ]
    other = simulate_office(EventStore(tmp_path / "c.sqlite"), config, DAY, seed=8)
    assert [e.waited for e in other.estimates] != [e.waited for e in first.estimates]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_range_shown_holds_for_most_residents(
    config: OfficeConfig, tmp_path: Path, seed: int
) -> None:
    result = simulate_office(EventStore(tmp_path / "day.sqlite"), config, DAY, seed)
    assert len(result.measured()) > 150
    assert result.coverage >= 0.8, f"only {result.coverage:.0%} inside the range"
    assert result.mean_absolute_error < 20
