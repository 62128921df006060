"""speaker_for: the one place the kiosk and the display choose their voice."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from nowserving_qt.espeak import EspeakSpeaker
from nowserving_qt.speech import ENGINE_VARIABLE, Speaker, speaker_for

pytestmark = pytest.mark.gui


def test_the_variable_beats_the_config_and_the_caller_beats_both(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENGINE_VARIABLE, "none")
    silent = speaker_for("mock")
    assert isinstance(silent, Speaker) and not silent.available
    chosen = speaker_for("none", engine="mock")
    assert isinstance(chosen, Speaker) and chosen.available


def test_none_is_silent_and_espeak_ng_speaks_without_qt_speech(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    silent = speaker_for("none")
    silent.say("A-001, counter 1")
    assert not silent.available and silent.last == "A-001, counter 1"  # asked, not spoken
    assert isinstance(speaker_for("espeak-ng", 0.5), EspeakSpeaker)
    assert isinstance(speaker_for("mock"), Speaker)
