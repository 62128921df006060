"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).

py-vapid signs the hub's claim to each push service; http-ece encrypts each message
for the one phone that subscribed, so the push service carries it without reading it.
They (and cryptography) are imported where they are used: not in the hub's start.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import time
from functools import cache
from hashlib import sha256
from typing import Any, cast
from urllib.parse import urlsplit

CLAIM_S = 12 * 3600  # how long a signed claim is good for (push services allow up to 24 h)


def load() -> None:
    """Import what sending takes, once, before the sends that need it start at once."""
    import http_ece  # noqa: F401
    import py_vapid  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: F401


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> str:
    """A new VAPID private key, raw and base64url, as `[notify.push] vapid_private_key`."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


@cache
def _vapid(private_key: str) -> Any:
    from py_vapid import Vapid02

    return Vapid02.from_raw(private_key.encode())


@cache
def public_key(private_key: str) -> str:
    """The public half, as a page's `applicationServerKey` (an uncompressed point, base64url)."""
    from cryptography.hazmat.primitives import serialization

    point = _vapid(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def public_host(endpoint: str, *, loopback: bool = False) -> bool:
    """Every address `endpoint`'s name resolves to is a public one (or loopback, when
    `loopback`, for tests): the hub posts to no name that leads into the office's network.
    A name that does not resolve passes; the post then fails like any unreachable one."""
    parts = urlsplit(endpoint)
    try:
        found = socket.getaddrinfo(parts.hostname or "", parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, ValueError):  # includes UnicodeError; the post fails with the reason
        return True
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).partition("%")[0])
        if not (ip.is_global or (loopback and ip.is_loopback)):
            return False
    return True


def headers(private_key: str, subject: str, endpoint: str, ttl: int, key: str) -> dict[str, str]:
    """A push request's headers: the signed claim, the payload's encoding, and a Topic made
    from the message's idempotency key, so a repeat replaces an undelivered first copy."""
    parts = urlsplit(endpoint)
    claims = {"sub": subject, "aud": f"{parts.scheme}://{parts.netloc}"}
    claims["exp"] = str(int(time.time()) + CLAIM_S)
    signed = cast(dict[str, str], _vapid(private_key).sign(claims))
    topic = b64url(sha256(key.encode()).digest())[:32]  # at most 32 base64url characters
    return {
        **signed,
        "TTL": str(ttl),
        "Urgency": "high",  # "it is your turn": wake the phone
        "Topic": topic,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
    }


def encrypt(subscription: str, payload: bytes) -> bytes:
    """`payload` for the phone that made `subscription` (its JSON as the hub keeps it)."""
    import http_ece
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = json.loads(subscription)["keys"]
    body: bytes = http_ece.encrypt(
        payload,
        private_key=ec.generate_private_key(ec.SECP256R1()),  # one-time, per message
        dh=unb64url(keys["p256dh"]),
        auth_secret=unb64url(keys["auth"]),
        version="aes128gcm",
    )
    return body
