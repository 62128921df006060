"""Calls announced one after another: a chime, then the call in each office language.

Calls that come together wait their turn and none is cut off; a recall is
announced again. The queue is bounded and never speaks stale news: a waiting call
is dropped when a newer call of the same ticket or to the same counter comes in,
or when it has waited longer than `max_age` (said minutes late, it sends people
to the wrong counter). The chime is synthesised once into the cache folder (no
binary in the repository).
"""

from __future__ import annotations

import logging
import math
import struct
import time
import wave
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QSoundEffect

from nowserving.system import i18n
from nowserving_qt.speech import Voice

log = logging.getLogger(__name__)
CHIME_MS = 900
MAX_WAITING = 20  # calls waiting to be spoken; beyond this the oldest is dropped


def chime_file() -> Path:
    """A two-note chime (E5 then C5) as a WAV file, made on first use."""
    path = Path(platformdirs.user_cache_dir("nowserving", appauthor=False)) / "chime.wav"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rate, frames = 22050, bytearray()
    for frequency, seconds in ((659.25, 0.35), (523.25, 0.55)):
        count = int(rate * seconds)
        for n in range(count):
            fade = math.exp(-3.0 * n / count)
            sample = 0.45 * fade * math.sin(2 * math.pi * frequency * n / rate)
            frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


CounterName = str | Mapping[str, str]  # one name, or the name in each language


def _name(counter: CounterName, lang: str) -> str:
    if isinstance(counter, str):
        return counter
    return counter.get(lang) or next(iter(counter.values()), "")


def call_phrases(
    label: str, counter: CounterName, languages: list[str], recall: bool
) -> list[tuple[str, str]]:
    """What is said for one call: (language, sentence) for each language, wholly in it."""
    key = "voice.recall" if recall else "voice.call"
    phrases = []
    for lang in languages:
        number = i18n.spoken_label(label, lang)
        phrases.append((lang, i18n.text(lang, key, number=number, counter=_name(counter, lang))))
    return phrases


@dataclass(frozen=True)
class Waiting:
    """A call waiting for its turn to be announced."""

    label: str
    counter: CounterName
    recall: bool
    since: float  # when it was queued, on the announcer's monotonic clock


class Announcer(QObject):
    """Plays the chime and speaks each queued call in turn.

    Signals:
        announced: (label, counter) once a call's announcement has started.
    """

    announced = Signal(str, str)

    def __init__(
        self,
        speaker: Voice,
        languages: list[str],
        volume: float = 1.0,
        parent: QObject | None = None,
        *,
        max_age: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.speaker = speaker
        self.languages = languages
        self.max_age = max_age
        self._now = now
        self.queue: deque[Waiting] = deque(maxlen=MAX_WAITING)
        self.dropped = 0  # calls never spoken because they were superseded or too old
        self._busy = False
        self._chime = QSoundEffect(self)
        self._chime.setSource(QUrl.fromLocalFile(str(chime_file())))
        self._chime.setVolume(volume)
        self._timer = QTimer(self, singleShot=True)  # the chime's turn, and a safety net
        self._timer.timeout.connect(self._next)
        speaker.finished.connect(self._spoken)

    def announce(self, label: str, counter: CounterName, recall: bool = False) -> None:
        """Queue a call; it replaces any waiting call of the same ticket or counter.

        `counter` is the counter's name in each language (or one name for all).
        """
        kept = [w for w in self.queue if w.label != label and w.counter != counter]
        self._drop(len(self.queue) - len(kept), "superseded")
        if len(kept) == MAX_WAITING:
            self._drop(1, "the queue is full")
        self.queue = deque(kept, maxlen=MAX_WAITING)
        self.queue.append(Waiting(label, counter, recall, self._now()))
        if not self._busy:
            self._next()

    def _drop(self, count: int, why: str) -> None:
        if count > 0:
            self.dropped += count
            log.info("announcer: %d waiting call(s) not spoken: %s", count, why)

    def _next(self) -> None:
        stale = 0
        while self.queue and self._now() - self.queue[0].since > self.max_age:
            self.queue.popleft()
            stale += 1
        self._drop(stale, f"waited over {self.max_age:.0f} s")
        if not self.queue:
            self._busy = False
            return
        self._busy = True
        waiting = self.queue.popleft()
        label, counter, recall = waiting.label, waiting.counter, waiting.recall
        self._chime.play()
        phrases = call_phrases(label, counter, self.languages, recall)
        for lang, sentence in phrases:
            self.speaker.say(sentence, lang)
        self.announced.emit(label, _name(counter, self.languages[0]) if self.languages else "")
        # The next call waits until this one has been spoken in full (never cut off);
        # without speech, the chime alone sets the pace. The long timer is a safety net.
        words = sum(len(sentence.split()) for _, sentence in phrases)
        self._timer.start(CHIME_MS + words * 600 if self.speaker.available else CHIME_MS)

    def _spoken(self) -> None:
        if self._busy:
            self._timer.start(CHIME_MS // 3)  # a short breath between announcements
