"""A display that runs for months: a bounded, fresh announcer queue and flat redraws."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from display.announcer import MAX_WAITING, Announcer
from nowserving.domain.config import OfficeConfig
from nowserving_qt.speech import Speaker
from tests.display.test_display import open_display
from tests.leaks import alive, grown

pytestmark = pytest.mark.gui


def _announcer(clock: list[float]) -> Announcer:
    # Silent speaker: the first call is taken at once, the rest wait (no event loop runs).
    return Announcer(Speaker(enabled=False), ["en"], max_age=60, now=lambda: clock[0])


def _waiting(announcer: Announcer) -> list[tuple[str, str, bool]]:
    return [(w.label, w.counter, w.recall) for w in announcer.queue]


def test_a_newer_call_of_the_same_ticket_or_counter_replaces_the_waiting_one(
    qtbot: QtBot,
) -> None:
    announcer = _announcer([0.0])
    announcer.announce("A-001", "Counter 1")  # being announced now
    announcer.announce("A-002", "Counter 2")
    announcer.announce("A-003", "Counter 3")
    announcer.announce("A-002", "Counter 4")  # transferred before it was spoken
    announcer.announce("B-001", "Counter 3")  # counter 3 has moved on
    assert _waiting(announcer) == [("A-002", "Counter 4", False), ("B-001", "Counter 3", False)]
    assert announcer.dropped == 2


def test_the_queue_is_bounded(qtbot: QtBot) -> None:
    announcer = _announcer([0.0])
    for n in range(1000):  # 5 calls a second for minutes, each to its own counter
        announcer.announce(f"A-{n:03}", f"Counter {n}")
    assert len(announcer.queue) == MAX_WAITING
    assert announcer.queue[-1].label == "A-999"
    assert announcer.dropped == 1000 - 1 - MAX_WAITING


def test_a_call_that_waited_too_long_is_never_spoken(qtbot: QtBot) -> None:
    clock = [0.0]
    announcer = _announcer(clock)
    announcer.announce("A-001", "Counter 1")
    announcer.announce("A-002", "Counter 2")
    clock[0] = 30.0
    announcer.announce("A-003", "Counter 3")
    clock[0] = 75.0  # A-002 has waited 75 s, A-003 45 s
    spoken: list[str] = []
    announcer.announced.connect(lambda label, _: spoken.append(label))
    announcer._next()  # the current announcement ends
    assert spoken == ["A-003"]
    assert announcer.dropped == 1


def test_500_board_redraws_leave_python_and_qt_object_counts_unchanged(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    window, desk = open_display(qtbot, config, tmp_path)
    for _ in range(3):
        desk.issue("permits")
        desk.call_next("c1")
    window.refresh()
    for flash in (True, False) * 10:
        window.render_view(flash=flash)
    before = alive(window)
    for n in range(500):
        window.render_view(flash=n % 2 == 0)  # each redraw rebuilds the recent calls and lines
    after = alive(window)
    # A leak per operation shows as 500 or more; other tests' threads may add a few dozen.
    assert grown(before, after, slack=200) == {}
