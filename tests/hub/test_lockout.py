"""Wrong PINs lock out the desk and the address they came from, never the clerk everywhere;
X-Forwarded-For is believed only from the office's trusted proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hub.conftest import PINS, RunningHub, session_from, start_hub, stop_hub

DESK_1 = "7wtzMkqDbOs3K7IyXVbWGktcHkgfHxfH"
DESK_2 = "5ueZGHSlvJoJ-cn-qkni39uJAcRodC6A"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    running = start_hub(tmp_path, 'trusted_proxies = ["127.0.0.1"]\n')  # under [hub]
    yield running
    stop_hub(running)


def sign_in(
    hub: RunningHub, desk: str, pin: str, *, peer: str, forwarded: str | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {desk}"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    with session_from(peer) as session:
        return session.post(
            hub.url + "/api/staff/login",
            json={"staff": "tom", "pin": pin},
            headers=headers,
            timeout=10,
        )


def test_a_lockout_at_desk_a_leaves_the_clerk_signing_in_at_desk_b(hub: RunningHub) -> None:
    for _ in range(5):
        assert sign_in(hub, DESK_1, "0000", peer="127.0.0.2").status_code == 401
    locked = sign_in(hub, DESK_1, PINS["tom"], peer="127.0.0.2")
    assert locked.status_code == 429 and "Too many wrong PINs" in locked.json()["detail"]
    assert 1 <= int(locked.headers["Retry-After"]) <= 300  # the five-minute lockout
    assert sign_in(hub, DESK_2, PINS["tom"], peer="127.0.0.3").status_code == 200
    # Desk A's secret used from elsewhere is still locked; desk B from A's address too.
    assert sign_in(hub, DESK_1, PINS["tom"], peer="127.0.0.3").status_code == 429
    assert sign_in(hub, DESK_2, PINS["tom"], peer="127.0.0.2").status_code == 429


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(hub: RunningHub) -> None:
    # Through the trusted proxy (127.0.0.1): the right-most untrusted entry is the client.
    for _ in range(5):
        wrong = sign_in(hub, DESK_1, "0000", peer="127.0.0.1", forwarded="203.0.113.9, 10.1.1.1")
        assert wrong.status_code == 401
    assert (
        sign_in(hub, DESK_2, PINS["tom"], peer="127.0.0.1", forwarded="10.1.1.1").status_code == 429
    )
    # Whatever a client writes to the left of what the proxy appended is ignored.
    assert sign_in(hub, DESK_2, PINS["tom"], peer="127.0.0.1", forwarded="10.1.1.1, 10.1.1.2").ok
    # From an untrusted peer the header is ignored: naming the locked address changes nothing.
    assert sign_in(hub, DESK_2, PINS["tom"], peer="127.0.0.2", forwarded="10.1.1.1").ok
