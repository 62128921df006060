"""Secrets: staff PIN hashes (scrypt, from the standard library) and device secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str) -> str:
    """A salted scrypt hash to put in the config as a staff member's `pin_hash`."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("A PIN is 4 to 12 digits.")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Whether `pin` matches a hash made by `hash_pin` (constant time)."""
    try:
        _, n, r, p, salt, digest = pin_hash.split("$")
        expected = base64.urlsafe_b64decode(digest + "==")
        got = hashlib.scrypt(
            pin.encode(), salt=base64.urlsafe_b64decode(salt + "=="), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, got)


def new_secret() -> str:
    """A device secret for the config (192 random bits)."""
    return secrets.token_urlsafe(24)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
