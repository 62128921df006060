"""Offline speech: Qt's text-to-speech, one utterance after another, never cut off.

Engines: "speechd" (Debian's speech-dispatcher + espeak-ng) on a real kiosk or
display, "mock" in tests. Without a working engine the app stays silent and
says so once in the log. `spoken` keeps what was asked, newest last, so tests
(and the maintenance screen) can check what a blind resident heard.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence

from PySide6.QtCore import QLocale, QObject, Signal
from PySide6.QtTextToSpeech import QTextToSpeech, QVoice

from nowserving_qt.checks import speech_off, warn_once
from nowserving_qt.espeak import EspeakSpeaker

# Overrides the configured engine on this PC (tests set "mock").
ENGINE_VARIABLE = "NOWSERVING_TTS_ENGINE"
# Speech locales to try per office language code.
LOCALES = {"en": "en_US", "es": "es_ES", "zh": "zh_CN", "vi": "vi_VN", "ar": "ar_SA"}


class Speaker(QObject):
    """Queues phrases and speaks them in order, each in its own language.

    Signals:
        finished: everything queued has been spoken.
    """

    finished = Signal()

    def __init__(
        self,
        engine: str | None = None,
        volume: float = 1.0,
        parent: QObject | None = None,
        *,
        enabled: bool = True,
    ) -> None:
        super().__init__(parent)
        self.spoken: deque[tuple[str, str]] = deque(maxlen=200)
        self._tts: QTextToSpeech | None = None
        if not enabled:
            return
        try:
            self._tts = QTextToSpeech(engine, self) if engine else QTextToSpeech(self)
        except RuntimeError as exc:  # no engine plugin at all
            speech_off(str(exc))
            return
        if self._tts.state() == QTextToSpeech.State.Error:
            speech_off(self._tts.errorString() or "no speech engine")
            self._tts = None
            return
        self._tts.setVolume(max(0.0, min(1.0, volume)))
        self._tts.stateChanged.connect(self._state_changed)

    def _state_changed(self, state: QTextToSpeech.State) -> None:
        if state == QTextToSpeech.State.Ready:
            self.finished.emit()

    @property
    def available(self) -> bool:
        return self._tts is not None

    def say(self, text: str, lang: str = "en", *, interrupt: bool = False) -> None:
        """Speak `text` after whatever is queued (or at once, dropping the queue)."""
        self.spoken.append((lang, text))
        if self._tts is None:
            return
        locale = QLocale(LOCALES.get(lang, lang))
        if locale in self._tts.availableLocales() and self._tts.locale() != locale:
            self._tts.setLocale(locale)
        if lang == "zh" and (voice := self.pinyin_voice()) is not None:
            self._tts.setVoice(voice)
        if interrupt:
            self._tts.stop()
            self._tts.say(text)
        else:
            self._tts.enqueue(text)

    def pinyin_voice(self) -> QVoice | None:
        """The engine's Mandarin voice that reads pinyin as Mandarin (espeak-ng's
        cmn-latn-pinyin), if it lists one: its other Mandarin voice reads it as English."""
        if self._tts is None:
            return None
        locale = QLocale(LOCALES["zh"])
        if locale in self._tts.availableLocales() and self._tts.locale() != locale:
            self._tts.setLocale(locale)
        voices = self._tts.availableVoices()
        return next((v for v in voices if "pinyin" in v.name().lower()), None)

    def stop(self) -> None:
        if self._tts is not None:
            self._tts.stop()

    @property
    def last(self) -> str:
        return self.spoken[-1][1] if self.spoken else ""


Voice = Speaker | EspeakSpeaker  # both speak, queue, and keep what was asked in `spoken`


def speaker_for(
    setting: str | None = None,
    volume: float = 1.0,
    *,
    engine: str | None = None,
    languages: Sequence[str] = (),
) -> Voice:
    """The one place an app's voice is chosen.

    The engine is `engine` if given (tests), else $NOWSERVING_TTS_ENGINE, else the config's
    `setting`; none of them means Qt's default engine. "espeak-ng" speaks through espeak-ng
    directly, "none" stays silent, any other name is a Qt speech engine ("speechd", "mock").
    Speech-dispatcher without a pinyin Mandarin voice, for an office that speaks `zh`,
    gives way to espeak-ng directly: its other Mandarin voice cannot be understood.
    """
    chosen = engine or os.environ.get(ENGINE_VARIABLE) or setting
    if chosen == "espeak-ng":
        return EspeakSpeaker(volume)
    speaker = Speaker(None if chosen == "none" else chosen, volume, enabled=chosen != "none")
    mandarin = chosen == "speechd" and "zh" in languages and speaker.available
    if mandarin and speaker.pinyin_voice() is None:
        warn_once("speech-dispatcher has no pinyin Mandarin voice: using espeak-ng directly")
        return EspeakSpeaker(volume)
    return speaker
