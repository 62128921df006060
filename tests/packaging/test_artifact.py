"""The shipped artifact: the wheel installs into a fresh venv and every app starts from it.

The slow tests build the wheel from a copy of this checkout, install it with the pinned
constraints into a new virtual environment, and run the installed `nowserving` from a
folder outside the checkout, so nothing can come from the source tree by accident.
The fast tests check the systemd units and that docs/deploy.md names real commands.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import nowserving
from nowserving.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "offices" / "sample.toml"
UNITS = sorted((REPO / "packaging" / "systemd").glob("*.service"))
DESKTOP_FILES = sorted((REPO / "packaging" / "desktop").glob("*.desktop"))
DEPLOY_DOC = REPO / "docs" / "deploy.md"

# Every file of resources/ must reach the installed package as nowserving/resources/,
# where nowserving.system.paths.resources_dir() looks for it.
RESOURCE_FILES = sorted(
    path.relative_to(REPO).as_posix()
    for path in (REPO / "resources").rglob("*")
    if path.is_file() and "__pycache__" not in path.parts
)

# Every Python package of the checkout must be in the wheel, a subpackage added later too.
PACKAGES = sorted(
    init.parent.relative_to(REPO).as_posix()
    for top in ("nowserving", "nowserving_qt", "kiosk", "display", "desk")
    for init in (REPO / top).rglob("__init__.py")
    if "__pycache__" not in init.parts
)

# What a plain checkout holds besides the sources; none of it goes into the wheel.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    ".schemathesis",
    "screenshots",
    "out",
    "*.sqlite*",
)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path  # a folder outside the checkout to run from

    @property
    def nowserving(self) -> Path:
        return self.venv / "bin" / "nowserving"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for the installed tools: nothing pointing back at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("NOWSERVING_DATA", None)
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def run(
    args: list[str | Path], cwd: Path, timeout: float, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"$ {shlex.join(result.args)}\nexit {result.returncode}\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """Build the wheel, make a fresh venv, install the wheel with the pinned constraints."""
    base = tmp_path_factory.mktemp("artifact")
    source = base / "source"
    # A copy, so that setuptools' build/ and *.egg-info never land in the checkout and a
    # stale build/lib there cannot leak into the wheel.
    shutil.copytree(REPO, source, ignore=NOT_SOURCES, symlinks=True)
    dist = base / "dist"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, source],
        cwd=base,
        timeout=300,
    )
    assert built.returncode == 0, explain(built)
    wheels = list(dist.glob("nowserving-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {dist}: {wheels}"

    venv = base / "venv"
    made = run([sys.executable, "-m", "venv", venv], cwd=base, timeout=120)
    assert made.returncode == 0, explain(made)
    python = venv / "bin" / "python"
    wheel = wheels[0]
    added = run(
        [python, "-m", "pip", "install", "-c", REPO / "constraints.txt", f"{wheel}[gui]"],
        cwd=base,
        timeout=900,
    )
    assert added.returncode == 0, explain(added)
    work = base / "work"
    work.mkdir()
    yield Installed(wheel, venv, work)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_wheel_carries_the_resources_folder(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    missing = [name for name in RESOURCE_FILES if f"nowserving/{name}" not in names]
    assert not missing, (
        f"{installed.wheel.name} lacks {len(missing)} of the {len(RESOURCE_FILES)} files of "
        f"resources/ (first: {missing[:5]}). Installed from it, the kiosk, display, desk, hub "
        "and `nowserving init` fail with 'resources folder is missing'. pyproject.toml must "
        "ship resources/ as the package nowserving.resources (package-dir + package-data)."
    )
    found = run(
        [
            installed.python,
            "-c",
            "from nowserving.system.paths import resources_dir; print(resources_dir())",
        ],
        cwd=installed.work,
        timeout=60,
    )
    assert found.returncode == 0, explain(found)
    assert Path(found.stdout.strip()).is_relative_to(installed.venv), (
        f"the installed package found its resources outside its venv: {found.stdout}"
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_wheel_carries_every_package(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    shipped = sorted(
        name.removesuffix("/__init__.py") for name in names if name.endswith("/__init__.py")
    )
    print(f"{installed.wheel.name} holds the packages: {', '.join(shipped)}")
    missing = [package for package in PACKAGES if f"{package}/__init__.py" not in names]
    assert not missing, f"{installed.wheel.name} lacks the packages {missing}: see setup.py"
    assert {"nowserving/domain", "nowserving/store", "nowserving/sync"} <= set(shipped)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_installed_command_reports_its_version(installed: Installed) -> None:
    result = run([installed.nowserving, "--version"], cwd=installed.work, timeout=60)
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == f"nowserving {nowserving.__version__}", explain(result)
    assert f"nowserving-{nowserving.__version__}-" in installed.wheel.name


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_installed_command_validates_the_sample_office(installed: Installed) -> None:
    result = run([installed.nowserving, "check-config", SAMPLE], cwd=installed.work, timeout=60)
    assert result.returncode == 0, explain(result)
    assert "OK" in result.stdout, explain(result)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_installed_command_writes_a_starter_config(installed: Installed) -> None:
    # `init` from the installed command, outside the checkout: it must write a config that loads.
    target = installed.work / "office.toml"
    result = run([installed.nowserving, "init", target], cwd=installed.work, timeout=120)
    assert result.returncode == 0, explain(result)
    checked = run([installed.nowserving, "check-config", target], cwd=installed.work, timeout=60)
    assert checked.returncode == 0, explain(checked)


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("app", ["kiosk", "display", "desk"])
def test_each_installed_app_starts_offscreen(installed: Installed, app: str) -> None:
    data = installed.work / f"data-{app}"
    result = run(
        [
            installed.nowserving,
            "--data",
            data,
            app,
            "--config",
            SAMPLE,
            "--windowed",
            "--exit-after",
            "1",
        ],
        cwd=installed.work,
        timeout=120,
        QT_QPA_PLATFORM="offscreen",
    )
    assert result.returncode == 0, explain(result)
    assert "Traceback" not in result.stderr, explain(result)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_installed_hub_serves(installed: Installed) -> None:
    port = free_port()
    args = [
        installed.nowserving,
        "--data",
        installed.work / "data-hub",
        "hub",
        "--config",
        SAMPLE,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with subprocess.Popen(
        [str(arg) for arg in args],
        cwd=installed.work,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as hub:
        try:
            deadline = time.monotonic() + 30
            while True:
                assert hub.poll() is None, f"the hub exited {hub.returncode}:\n{hub.stdout.read()}"
                try:  # the hub listens first and holds a request until it is built
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as reply:
                        page = reply.read().decode()
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    assert time.monotonic() < deadline, "the hub did not answer within 30 s"
                    time.sleep(0.3)
            assert "<html" in page.lower()
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/static/style.css", timeout=5
            ) as css:
                assert css.status == 200
        finally:
            hub.terminate()
            try:
                hub.wait(timeout=15)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait(timeout=15)


# --- fast: the systemd units, the desktop files and the deployment guide -----------------


def read_ini(path: Path) -> configparser.ConfigParser:
    # systemd allows a key more than once (After=, Environment=) and uses % specifiers.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def test_the_packaging_files_exist() -> None:
    names = {path.name for path in UNITS}
    assert {
        "nowserving-hub.service",
        "nowserving-kiosk@.service",
        "nowserving-display@.service",
    } <= names
    assert {path.name for path in DESKTOP_FILES} >= {
        "nowserving-desk.desktop",
        "nowserving-kiosk.desktop",
        "nowserving-display.desktop",
    }
    assert (REPO / "packaging" / "udev" / "60-nowserving-printer.rules").is_file()
    assert (REPO / "packaging" / "build.sh").is_file()


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_each_systemd_unit_parses_and_starts_nowserving(unit: Path) -> None:
    parser = read_ini(unit)
    assert {"Unit", "Service", "Install"} <= set(parser.sections()), parser.sections()
    exec_start = parser.get("Service", "ExecStart", fallback="")
    assert "nowserving" in exec_start, exec_start
    command = shlex.split(exec_start)
    assert command[0].startswith("/"), "systemd needs an absolute path in ExecStart"
    # The nowserving command line in it must be one the CLI accepts (${VAR}s stand in).
    program = next(i for i, word in enumerate(command) if word.endswith("/bin/nowserving"))
    words = [re.sub(r"\$\{\w+\}", "x", word) for word in command[program + 1 :]]
    build_parser().parse_args(words)
    assert parser.get("Service", "Restart", fallback="") == "always"
    assert parser.get("Install", "WantedBy", fallback="")


@pytest.mark.parametrize("entry", DESKTOP_FILES, ids=lambda path: path.name)
def test_each_desktop_file_starts_a_real_command(entry: Path) -> None:
    parser = read_ini(entry)
    assert parser.get("Desktop Entry", "Type") == "Application"
    command = shlex.split(parser.get("Desktop Entry", "Exec"))
    assert command[0].endswith("/bin/nowserving"), command
    build_parser().parse_args(command[1:])


def subcommands() -> set[str]:
    """The names `nowserving COMMAND` accepts: the choices of the parser's subparsers."""
    for action in build_parser()._actions:  # argparse has no public way to list them
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("the nowserving parser has no subcommands")


def documented_commands() -> list[list[str]]:
    """Each `nowserving …` command line in the code blocks of docs/deploy.md."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        for line in block.replace("\\\n", " ").splitlines():
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            while words and (words[0] in ("sudo", "exec") or re.match(r"^\w+=", words[0])):
                words = words[3:] if words[:2] == ["sudo", "-u"] else words[1:]
            if words and Path(words[0]).name == "nowserving":
                commands.append(words)
    return commands


def test_the_deployment_guide_names_real_subcommands() -> None:
    commands = documented_commands()
    assert len(commands) >= 5, "docs/deploy.md should show the nowserving commands it uses"
    known = subcommands()
    for words in commands:
        args = words[1:]
        if args[:1] == ["--version"]:
            continue
        if args[:1] == ["--data"]:
            args = args[2:]
        assert args and args[0] in known, f"docs/deploy.md: {shlex.join(words)!r}: " + (
            f"{args[0] if args else '(nothing)'} is not one of {sorted(known)}"
        )
        try:  # and its options are the command's own
            build_parser().parse_args(words[1:])
        except SystemExit as exc:
            raise AssertionError(f"docs/deploy.md: {shlex.join(words)!r} does not parse") from exc
