"""One-time pairing codes and device credentials: how a PC becomes one of the office's devices.

A pairing code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
about 40 bits: with at most a few tries a minute per address and 10 minutes of life, it
cannot be guessed. The hub keeps only a hash of each code and of each device secret;
both are random, so a fast hash (SHA-256) is as good as a slow one and costs nothing
per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from nowserving.domain.config import IDENT
from nowserving.domain.errors import NowservingError

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols, none mistaken for another
CODE_LENGTH = 8
CODE_SECONDS = 600  # a code is valid this long after it is made
ROLES = ("kiosk", "display", "desk")
REMOVED = "This device was removed; ask IT to pair it again."
REVOKED_CODE = "device_revoked"  # the problem code of a request with a revoked secret


def new_code() -> str:
    """A fresh pairing code, shown as two groups of four: `K7QM-4XPA`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(text: str) -> str | None:
    """The code as typed (any case, spaces or dashes), or None if it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", text).upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def digest(secret: str) -> str:
    """What the hub stores of a pairing code or a device secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Names the hub gives what is not a device (hub.auth.ADMIN_PAGE: the admin page's sessions).
RESERVED_IDS = frozenset({"admin-page", "hub"})


def check_device_id(device_id: str) -> str:
    """`device_id` if it is a valid id (like `kiosk-3`); ValueError saying why otherwise."""
    if not re.fullmatch(IDENT, device_id):
        raise ValueError(
            f"{device_id!r} is not a device id: 1-32 of a-z 0-9 _ -, starting with a-z or 0-9"
        )
    if device_id in RESERVED_IDS:
        raise ValueError(f"{device_id!r} is reserved: it names the hub's admin page")
    return device_id


def next_device_id(role: str, taken: set[str]) -> str:
    """The first free id of the form `<role>-<n>`."""
    n = 1
    while f"{role}-{n}" in taken:
        n += 1
    return f"{role}-{n}"


class PairingRefused(NowservingError):
    """A pairing code that is unknown, used already or expired: the message says which."""
