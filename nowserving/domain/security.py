"""Secrets: staff PIN hashes (scrypt, from the standard library) and device secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str) -> str:
    """A salted scrypt hash to put in the config as a staff member's `pin_hash`."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("A PIN is 4 to 12 digits.")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


NEW_PIN_DIGITS = 6  # a PIN given or chosen from now on: a million tries, not ten thousand


class WeakPin(ValueError):
    """A new PIN the office does not accept; the message says why."""


def check_new_pin(pin: str, again: str | None = None) -> str:
    """A PIN a staff member chose (typed twice: `again`), if the office accepts it: 6 to 12
    digits, not one digit repeated nor a run like 123456 (the first ones anyone tries)."""
    if again is not None and again != pin:
        raise WeakPin("The new PIN and its repetition differ: type it again.")
    if not (pin.isascii() and pin.isdigit() and NEW_PIN_DIGITS <= len(pin) <= 12):
        raise WeakPin(f"A new PIN is {NEW_PIN_DIGITS} to 12 digits.")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(steps) == 1 and steps <= {-1, 0, 1}:
        raise WeakPin("That PIN is too easy to guess (one digit repeated, or a run): pick another.")
    return pin


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
