"""Speech that a resident can actually hear: espeak-ng writes real audio, measured here."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from display.announcer import call_phrases, chime_file
from nowserving_qt.espeak import synthesize


def _measure(path: Path) -> tuple[float, float]:
    """Duration in seconds and RMS level (0..1) of a 16-bit mono WAV file."""
    with wave.open(str(path)) as audio:
        frames = audio.readframes(audio.getnframes())
        seconds = audio.getnframes() / audio.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768
    return seconds, rms


@pytest.mark.parametrize("lang", ["en", "es", "zh", "vi", "ar"])
def test_each_language_is_spoken_aloud(lang: str, tmp_path: Path) -> None:
    ((_, sentence),) = call_phrases("A-042", "Counter 3", [lang], recall=False)
    seconds, rms = _measure(synthesize(sentence, lang, tmp_path / f"{lang}.wav"))
    assert 1.0 < seconds < 12, f"{lang}: {seconds:.1f} s"
    assert rms > 0.02, f"{lang}: nearly silent ({rms:.3f})"


def test_the_number_is_read_as_a_letter_and_digits() -> None:
    ((_, english),) = call_phrases("A-042", "Counter 3", ["en"], recall=False)
    assert english == "Ticket A 042, please go to Counter 3."
    ((_, again),) = call_phrases("A-042", "Counter 3", ["en"], recall=True)
    assert again.startswith("Again:")


def test_the_chime_is_a_real_sound() -> None:
    seconds, rms = _measure(chime_file())
    assert 0.5 < seconds < 2 and rms > 0.05
