"""The `nowserving` command, run as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nowserving import __version__
from nowserving.cli import APPS, main
from nowserving.config import load_config
from nowserving.paths import sample_config
from nowserving.security import verify_pin


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nowserving", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_help_and_version() -> None:
    shown = _run("--help")
    assert shown.returncode == 0
    for command in ("demo", "hub", "kiosk", "display", "desk", "init", "check-config"):
        assert command in shown.stdout
    assert _run("--version").stdout.strip() == f"nowserving {__version__}"


def test_init_writes_a_valid_config_with_fresh_secrets(tmp_path: Path) -> None:
    path = tmp_path / "office.toml"
    result = _run("init", str(path), "--name", "Harbor Permit Office")
    assert result.returncode == 0, result.stderr
    config = load_config(path)
    sample = load_config(sample_config())
    assert config.office.name == "Harbor Permit Office"
    assert {d.secret for d in config.devices}.isdisjoint(d.secret for d in sample.devices)
    pins = dict(line.strip().split(": ") for line in result.stdout.splitlines()[1:4])
    for person in config.staff:
        assert verify_pin(pins[person.name], person.pin_hash)
    assert _run("init", str(path)).returncode == 1  # never overwrites by surprise


def test_check_config_reports_problems_without_a_traceback(tmp_path: Path) -> None:
    good = _run("check-config", str(sample_config()))
    assert good.returncode == 0 and "OK" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(sample_config().read_text().replace('prefix = "C"', 'prefix = "c"'))
    result = _run("check-config", str(bad))
    assert result.returncode == 1
    assert f"{bad}: lines[2].prefix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_hash_pin_reads_stdin() -> None:
    result = _run("hash-pin", stdin="4321\n")
    assert result.returncode == 0 and verify_pin("4321", result.stdout.strip())
    assert _run("hash-pin", stdin="12\n").returncode == 1


def test_an_unbuilt_app_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(APPS, "display", "nowhere.app:main")
    assert main(["display", "--config", str(sample_config())]) == 2
    assert "not built yet" in capsys.readouterr().err


def test_the_core_never_imports_qt() -> None:
    code = (
        "import nowserving, nowserving.cli, nowserving.service, sys; "
        "assert not any(m.startswith('PySide6') for m in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    checker = Path(__file__).parents[2] / "scripts" / "check_core_is_qt_free.py"
    result = subprocess.run(
        [sys.executable, str(checker)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
