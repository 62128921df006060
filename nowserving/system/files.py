"""Files that hold secrets or personal data: private from the first byte.

The config holds every device secret and PIN hash; stores hold residents'
tickets and tokens; exports hold the day's tickets. They are created 0600
(folders 0700) with the mode given at creation, never chmod-ed after the
content is in, so there is no moment when another user of the PC can read them.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700 if it does not exist yet."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    return path


def private_opener(path: str, flags: int) -> int:
    """An `opener` for open(): a new file is 0600 from the start; an existing one is made
    0600 before anything is written to it (O_TRUNC has already emptied it)."""
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, as a 0600 file (readers see old or new)."""
    private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", opener=private_opener) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def touch_private(path: Path) -> None:
    """Create `path` empty and 0600 if it is missing (SQLite keeps a new file's mode,
    and gives its -wal and -shm files the same)."""
    private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def readable_by_others(path: Path) -> str | None:
    """Who besides the owner can read `path`: "every user", "group <gid>", or None.

    A group that is this process's own (e.g. `root:nowserving 0640` for the hub's
    user) is how a service is meant to read its config, so it does not count.
    """
    info = path.stat()
    if info.st_mode & stat.S_IROTH:
        return "every user"
    if info.st_mode & stat.S_IRGRP and info.st_gid != os.getegid():
        return f"group {info.st_gid}"
    return None
