"""Speech through espeak-ng directly: no speech daemon, works offline on any Debian box.

Each phrase is synthesised to a WAV file by `espeak-ng -w` on a worker thread,
then played in order. Same interface as `speech.Speaker`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtMultimedia import QSoundEffect

from nowserving_qt.background import run_in_background
from nowserving_qt.checks import NO_AUDIO, has_audio_output, speech_off, warn_once

log = logging.getLogger(__name__)

# Office language code -> espeak-ng voice, where they differ. Mandarin: `cmn` reads the
# pinyin its dictionary gives as English words ("king three"); `cmn-latn-pinyin` speaks
# the same pinyin as Mandarin syllables with their tones (docs/languages.md).
VOICES = {"zh": "cmn-latn-pinyin"}


def _espeak(lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("espeak-ng")
    if executable is None:
        raise OSError("espeak-ng is not installed (Debian package espeak-ng)")
    return subprocess.run(
        [executable, "-v", VOICES.get(lang, lang), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )


def synthesize(text: str, lang: str, path: Path, *, speed: int = 150) -> Path:
    """Speak `text` in `lang` into a WAV file (raises OSError if espeak-ng fails)."""
    _espeak(lang, "-s", str(speed), "-w", str(path), text)
    return path


def phonemes(text: str, lang: str) -> str:
    """What espeak-ng would say, as phoneme mnemonics: a switch of voice shows as "(en)"."""
    return _espeak(lang, "-q", "-x", text).stdout


class EspeakSpeaker(QObject):
    """Queues phrases, synthesises them with espeak-ng and plays them one after another.

    Signals:
        finished: everything queued has been spoken.
    """

    finished = Signal()

    def __init__(self, volume: float = 1.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spoken: deque[tuple[str, str]] = deque(maxlen=200)
        self._pending: deque[tuple[str, str]] = deque()
        self._folder = Path(tempfile.mkdtemp(prefix="nowserving-speech-"))
        self._count = 0
        self._busy = False
        self._player = QSoundEffect(self)
        self._player.setVolume(max(0.0, min(1.0, volume)))
        self._player.playingChanged.connect(self._played)
        self.available = shutil.which("espeak-ng") is not None
        self._has_output = has_audio_output()
        if not self.available:
            speech_off("espeak-ng is not installed (Debian package espeak-ng)")
        elif not self._has_output:
            warn_once(NO_AUDIO)

    def say(self, text: str, lang: str = "en", *, interrupt: bool = False) -> None:
        self.spoken.append((lang, text))
        if not self.available:
            return
        if interrupt:
            self._pending.clear()
            self._player.stop()
        self._pending.append((lang, text))
        if not self._busy:
            self._next()

    def stop(self) -> None:
        self._pending.clear()
        self._player.stop()

    @property
    def last(self) -> str:
        return self.spoken[-1][1] if self.spoken else ""

    def _next(self) -> None:
        if not self._pending:
            self._busy = False
            self.finished.emit()
            return
        self._busy = True
        lang, text = self._pending.popleft()
        self._count += 1
        path = self._folder / f"phrase-{self._count % 8}.wav"
        run_in_background(lambda: synthesize(text, lang, path), self._play, self._failed)

    def _play(self, path: Path) -> None:
        if not self._has_output:  # nothing to play it on: go on silently
            self._next()
            return
        self._player.setSource(QUrl.fromLocalFile(str(path)))
        self._player.play()

    def _played(self) -> None:
        if not self._player.isPlaying() and self._busy:
            self._next()

    def _failed(self, error: Exception) -> None:
        log.warning("espeak-ng failed: %s", error)
        self._next()
