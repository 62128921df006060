"""Speech that a resident can actually hear and understand: espeak-ng, measured here.

Listening is not possible on this machine, so intelligibility is judged from espeak-ng's
own phoneme transcript of each call (docs/languages.md): the whole call must stay in the
resident's language's voice (espeak-ng marks a switch to another voice as "(en)") and a
Mandarin call must be made of the expected Mandarin syllables, tones included.
"""

from __future__ import annotations

import math
import string
import struct
import wave
from pathlib import Path

import pytest

from display.announcer import call_phrases, chime_file
from nowserving.domain.config import load_config
from nowserving.system import i18n
from nowserving.system.paths import resources_dir, sample_config
from nowserving_qt.espeak import phonemes, synthesize

SHIPPED = sorted(path.stem for path in (resources_dir() / "i18n").glob("*.json"))
COUNTER_3 = dict(load_config(sample_config()).counter("c3").name)


def _measure(path: Path) -> tuple[float, float]:
    """Duration in seconds and RMS level (0..1) of a 16-bit mono WAV file."""
    with wave.open(str(path)) as audio:
        frames = audio.readframes(audio.getnframes())
        seconds = audio.getnframes() / audio.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768
    return seconds, rms


def test_every_shipped_language_is_checked() -> None:
    assert SHIPPED == ["ar", "en", "es", "vi", "zh"]
    assert set(SHIPPED) <= set(COUNTER_3)  # the sample names its counters in each


@pytest.mark.parametrize("lang", SHIPPED)
def test_each_language_is_spoken_aloud(lang: str, tmp_path: Path) -> None:
    ((_, sentence),) = call_phrases("A-042", COUNTER_3, [lang], recall=False)
    seconds, rms = _measure(synthesize(sentence, lang, tmp_path / f"{lang}.wav"))
    assert 1.0 < seconds < 12, f"{lang}: {seconds:.1f} s"
    assert rms > 0.02, f"{lang}: nearly silent ({rms:.3f})"


@pytest.mark.parametrize("lang", SHIPPED)
def test_a_call_is_spoken_wholly_in_the_residents_language(lang: str) -> None:
    for recall in (False, True):
        for letter in string.ascii_uppercase:  # any line prefix
            ((_, sentence),) = call_phrases(f"{letter}-042", COUNTER_3, [lang], recall)
            transcript = phonemes(sentence, lang)
            assert transcript.strip(), sentence
            assert "(" not in transcript, f"{sentence!r} switches voice: {transcript}"


def test_a_mandarin_call_is_made_of_mandarin_syllables() -> None:
    ((_, sentence),) = call_phrases("A-012", COUNTER_3, ["zh"], recall=False)
    assert sentence == "请A 0 1 2号到3号窗口办理。"
    transcript = phonemes(sentence, "zh").split("_|")
    syllables = [part.strip().replace("'", "") for part in transcript if part.strip()]
    # qing3 A ling2 yi1 er4 hao4 dao4 san1 hao4 chuang1 kou3 ban4 li3: the digits one by
    # one (never "shi2", ten: 012 read as twelve), and tones as numbers of pitch, not words.
    assert syllables == [
        "tS;hi21N", "ei51", "li35N", "ji55", "@r51", "XAu51", "tAu51",
        "sa55n", "XAu51", "ts.hwA55N", "khou21", "pa51n", "li214",
    ]  # fmt: skip


def test_the_number_is_read_as_a_letter_and_digits() -> None:
    ((_, english),) = call_phrases("A-042", "Counter 3", ["en"], recall=False)
    assert english == "Ticket A 0 4 2, please go to Counter 3."
    ((_, again),) = call_phrases("A-042", "Counter 3", ["en"], recall=True)
    assert again.startswith("Again:")
    # Arabic says the Latin letter by its Arabic name, so its voice never turns English.
    assert i18n.spoken_label("B-1001", "ar") == "بي 1 0 0 1"


def test_the_chime_is_a_real_sound() -> None:
    seconds, rms = _measure(chime_file())
    assert 0.5 < seconds < 2 and rms > 0.05
