"""What an app needs from the PC is checked at start, with a message an IT person can act on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kiosk.printing import PrinterState, connection_problem
from nowserving.system.paths import sample_config


def test_no_screen_is_a_clear_message_not_a_qt_abort(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nowserving",
            "--data",
            str(tmp_path),
            "desk",
            "--config",
            str(sample_config()),
            "--exit-after",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "No screen: DISPLAY and WAYLAND_DISPLAY are not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_printer_without_permission_says_what_to_do() -> None:
    assert (
        connection_problem(PermissionError(13, "Permission denied")) is PrinterState.NO_PERMISSION
    )
    assert (
        connection_problem(OSError("[Errno 13] Access denied (insufficient permissions)"))
        is PrinterState.NO_PERMISSION
    )
    assert connection_problem(ConnectionRefusedError(111, "refused")) is PrinterState.UNREACHABLE


def test_missing_fonts_and_sound_are_named(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtMultimedia import QMediaDevices

    from nowserving.domain.config import load_config
    from nowserving_qt.checks import startup_problems

    problems = startup_problems(load_config(sample_config()), needs_sound=True)
    assert not any("CJK" in problem for problem in problems)  # the test command installs it
    silent = not QMediaDevices.audioOutputs()
    assert any("No audio output" in problem for problem in problems) == silent
