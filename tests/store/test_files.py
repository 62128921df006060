"""Files with secrets or personal data are private from their first byte (0600, folders 0700)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nowserving.sync.replica import open_replica
from nowserving.system.files import readable_by_others, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The usual umask (022): what is not explicitly private ends up readable by all."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_init_writes_the_config_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "office.toml"
    command = [sys.executable, "-m", "nowserving", "init", str(path), "--yes"]
    subprocess.run(command, check=True, capture_output=True, umask=0o022)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    path.chmod(0o644)  # an old, too open file, overwritten: private again, atomically
    subprocess.run([*command, "--force"], check=True, capture_output=True, umask=0o022)
    assert mode(path) == 0o600
    # No temporary left; beside it the office CA and the hub's certificate, keys private.
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "hub.key",
        "hub.pem",
        "office-ca.key",
        "office-ca.pem",
        "office.toml",
    ]
    assert mode(path.parent / "hub.key") == mode(path.parent / "office-ca.key") == 0o600


def test_a_device_first_start_makes_its_store_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = open_replica(folder / "replica-kiosk-1.sqlite")  # what a device opens first
    try:
        assert mode(folder) == 0o700
        files = sorted(folder.iterdir())
        assert {p.name for p in files} >= {"replica-kiosk-1.sqlite", "replica-kiosk-1.sqlite-wal"}
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        store.close()


def test_who_else_can_read_a_file(tmp_path: Path) -> None:
    path = tmp_path / "office.toml"
    write_private(path, "x")
    assert readable_by_others(path) is None
    path.chmod(0o644)
    assert readable_by_others(path) == "every user"
    path.chmod(0o640)  # the group of this process: how a service is meant to read its config
    assert readable_by_others(path) is None
