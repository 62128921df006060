"""What an app needs from the PC, checked at start, with a message an IT person can act on."""

from __future__ import annotations

import logging
import os

from PySide6.QtGui import QFontDatabase
from PySide6.QtMultimedia import QMediaDevices

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import NowservingError

log = logging.getLogger(__name__)
CJK = {"zh", "ja", "ko"}
NO_AUDIO = (
    "No audio output: calls are shown but not heard. Check the speakers "
    "and that libpulse0 and a sound server (pipewire-pulse) are running."
)
_warned: set[str] = set()


def warn_once(problem: str) -> None:
    """Log a problem of this PC once per process, however many parts run into it."""
    if problem not in _warned:
        _warned.add(problem)
        log.warning(problem)


def has_audio_output() -> bool:
    return bool(QMediaDevices.audioOutputs())


def speech_off(reason: str) -> None:
    """Say once why this app stays silent; with no audio output at all, that is the reason."""
    warn_once(f"speech is off: {reason}" if has_audio_output() else NO_AUDIO)


class NoScreen(NowservingError):
    """No display to show a window on."""


def require_screen() -> None:
    """Fail clearly (instead of Qt's abort) when there is no screen to draw on."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise NoScreen(
        "No screen: DISPLAY and WAYLAND_DISPLAY are not set. Start the app in a desktop "
        "session or under cage (packaging/systemd), or set QT_QPA_PLATFORM=offscreen to try "
        "it without one."
    )


def startup_problems(config: OfficeConfig, *, needs_sound: bool) -> list[str]:
    """Missing fonts or sound as sentences, logged once (call after the QApplication exists)."""
    problems = []
    families = " ".join(QFontDatabase.families())
    if CJK & set(config.office.languages) and "CJK" not in families:
        problems.append(
            "No CJK font: Chinese text shows as boxes. Install Debian's fonts-noto-cjk."
        )
    if needs_sound and not has_audio_output():
        problems.append(NO_AUDIO)
    for problem in problems:
        warn_once(problem)
    return problems
