"""Qt's messages: what a user cannot act on is said once per cause, the rest passes."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import qInstallMessageHandler, qWarning

from nowserving_qt.qtlog import NOISE, QtMessages

pytestmark = pytest.mark.gui


def test_noise_is_one_line_per_cause_and_real_warnings_pass(
    qapp: object, caplog: pytest.LogCaptureFixture
) -> None:
    messages = QtMessages()
    previous = qInstallMessageHandler(messages.handle)  # pytest-qt's, put back below
    try:
        with caplog.at_level(logging.INFO, logger="qt"):
            for _ in range(3):
                qWarning("This plugin does not support propagateSizeHints()")
            qWarning("PulseAudioService: pa_context_connect() failed")
            qWarning("QSoundEffect: playback of this format is not supported")
            qWarning("QPainter::begin: Paint device returned engine == 0, type: 1")
    finally:
        qInstallMessageHandler(previous)
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "qt"]
    assert said == [
        ("INFO", "Qt: this screen platform ignores some window hints (harmless)."),
        ("INFO", next(sentence for pattern, sentence in NOISE if pattern.search("pipewire"))),
        ("WARNING", "QPainter::begin: Paint device returned engine == 0, type: 1"),
    ]
