"""The Qt binding itself must not leak: the apps run for weeks without a restart."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel

pytestmark = pytest.mark.gui


def test_void_methods_keep_none_alive(qapp) -> None:  # type: ignore[no-untyped-def]
    # PySide6 6.12.0 on Python 3.11 decrements None's count on every such call and
    # the process aborts with "deallocating None" after a few thousand of them.
    label, timer = QLabel(), QTimer()
    image = QImage(32, 32, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("A-042")
        timer.start(1000)
        painter.setBrush(QColor("black"))
        painter.drawRect(QRectF(1, 1, 2, 2))
    painter.end()
    assert sys.getrefcount(None) - before > -50
