"""run_in_background: each job reports once, on the UI thread, and leaves nothing behind."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from nowserving_qt import background
from nowserving_qt.background import run_in_background
from tests.leaks import alive, grown

pytestmark = pytest.mark.gui


def _run(qtbot: QtBot, jobs: int) -> list[object]:
    results: list[object] = []
    for n in range(jobs):
        payload = bytearray(1000)  # something a leaked job would keep
        if n % 10:
            run_in_background(lambda p=payload: len(p), results.append, results.append)
        else:
            run_in_background(lambda: 1 / 0, results.append, results.append)
    qtbot.waitUntil(lambda: len(results) == jobs, timeout=20_000)
    return results


def test_exactly_one_callback_each(qtbot: QtBot) -> None:
    results = _run(qtbot, 20)
    assert sorted(map(type, results), key=str).count(ZeroDivisionError) == 2
    assert results.count(1000) == 18


def test_500_jobs_leave_no_object_behind(qtbot: QtBot) -> None:
    _run(qtbot, 500)  # warm-up: the pool's threads, the signal's machinery
    before = alive()
    _run(qtbot, 500)
    after = alive()
    assert not background._pending
    # Before the fix every job left its signals object, two closures and their cells:
    # 500 of each. A few dozen weak references come and go with the pool's threads.
    # A leak per operation shows as 500 or more; other tests' threads may add a few dozen.
    assert grown(before, after, slack=200) == {}
