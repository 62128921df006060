"""The connection guard's read deadlines on uvicorn's httptools protocol, over loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from nowserving.domain.config import Hub as HubSettings
from nowserving.hub.guard import ConnectionGuard, guarded_protocol
from tests.hub.conftest import free_port

SLOW_ANSWER_S = 1.5  # longer than the deadlines: answering is not reading


async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await asyncio.sleep(SLOW_ANSWER_S)
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings = HubSettings(header_timeout=1, body_timeout=1)
    chosen = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            slow_app,
            host="127.0.0.1",
            port=chosen,
            http=guarded_protocol(ConnectionGuard(settings)),
            lifespan="off",
            log_level="warning",
            timeout_keep_alive=30,  # so that only the guard closes idle connections here
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield chosen
    server.should_exit = True
    thread.join(timeout=10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the hub closes the connection (or 10 s)."""
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


GET = b"GET / HTTP/1.1\r\nHost: hub\r\n\r\n"


def test_a_body_that_does_not_arrive_in_time_closes_the_connection_unanswered(port: int) -> None:
    with connect(port) as sock:
        began = time.monotonic()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: hub\r\nContent-Length: 10\r\n\r\nab")
        assert read_all(sock) == b""
        assert time.monotonic() - began < 8  # body_timeout 1 s; uvicorn alone waits forever


def test_headers_that_do_not_arrive_in_time_close_the_connection(port: int) -> None:
    with connect(port) as sock:
        began = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: hu")
        assert read_all(sock) == b""
        assert time.monotonic() - began < 8


def test_slow_answers_and_pipelined_requests_are_not_cut_and_idle_is_closed(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(GET + GET)  # both in at once: the second waits in uvicorn's pipeline
        answers = b""
        # Both answers whole: the second's body may come in a packet of its own.
        while answers.count(b"200 OK") < 2 or not answers.endswith(b"ok"):
            chunk = sock.recv(4096)
            assert chunk, f"closed after {answers!r}"
            answers += chunk
        # Answered (each after longer than either deadline); then idle: the next
        # request's headers are due within header_timeout, and none come.
        idle_since = time.monotonic()
        assert read_all(sock) == b""
        assert time.monotonic() - idle_since < 8  # keep-alive alone would wait 30 s


def test_one_ipv6_network_shares_one_connection_cap() -> None:
    guard = ConnectionGuard(HubSettings(max_connections_per_address=2, max_streams_per_address=1))
    assert guard.admit("2001:db8:1:2::a") and guard.admit("2001:db8:1:2::b")
    assert not guard.admit("2001:db8:1:2::c")  # the same /64: the same phone or home
    assert guard.admit("2001:db8:1:3::a")
    guard.release("2001:db8:1:2::a")
    assert guard.admit("2001:db8:1:2::c")
