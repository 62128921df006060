"""clear(): a re-rendered layout frees what it held, layout items included."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from nowserving_qt.widgets import clear
from tests.leaks import alive, grown

pytestmark = pytest.mark.gui


def _fill(layout: QVBoxLayout) -> None:
    for n in range(5):
        layout.addWidget(QLabel(str(n)))
    inner = QVBoxLayout()
    inner.addWidget(QLabel("inner"))
    layout.addLayout(inner)
    layout.addStretch(1)


def test_clear_deletes_every_layout_item(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    _fill(layout)
    items = [layout.itemAt(n) for n in range(layout.count())]
    clear(layout)
    assert layout.count() == 0
    # takeAt() alone left each item allocated in C++ (~100 B per widget per redraw).
    assert [shiboken6.isValid(item) for item in items] == [False] * len(items)


def test_500_clears_leave_the_object_counts_unchanged(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    for _ in range(20):
        _fill(layout)
        clear(layout)
    before = alive(page)
    for _ in range(500):
        _fill(layout)
        clear(layout)
    # A leak per clear shows as 500 objects or more (8 items a clear); a few dozen may
    # come and go with what other tests left running (their threads' weak references).
    assert grown(before, alive(page), slack=200) == {}
