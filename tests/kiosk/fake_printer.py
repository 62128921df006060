"""A receipt printer for tests: a real TCP listener on 127.0.0.1 that speaks ESC/POS status.

It records every byte a client sends, answers the real-time status queries DLE EOT n the way
a printer in `mode` would, and can be "unplugged" (`down()`: the port refuses connections)
and plugged back in on the same port (`up()`).

A status query is recognised when a read from the connection holds nothing but DLE EOT n
sequences: a client that asks for the status sends the query alone and waits for the reply,
while receipt data (where those three bytes could occur inside an image) comes in bulk.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal

Mode = Literal["ok", "paper_low", "paper_out", "cover_open", "jam", "silent"]

DLE_EOT = b"\x10\x04"
_QUERY_KINDS = (1, 2, 3, 4)
_TICK = 0.02  # how often the threads look at the stop flag
_JOIN = 2.0  # bounded join for every thread

# Replies to DLE EOT n, by mode. 0x12 is a status byte with only its fixed bits set (all fine).
# n=1 printer status (0x16: fixed bits), n=2 offline cause (0x04 cover open, 0x20 paper end,
# 0x40 error), n=3 error cause, n=4 paper sensor (0x0C near end, 0x60 paper out).
_FINE = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}
REPLIES: dict[str, dict[int, int]] = {
    "ok": _FINE,
    "paper_low": {**_FINE, 4: 0x12 | 0x0C},
    "paper_out": {**_FINE, 2: 0x12 | 0x20, 4: 0x12 | 0x60},
    "cover_open": {**_FINE, 2: 0x12 | 0x04},
    "jam": {**_FINE, 2: 0x12 | 0x40, 3: 0x12 | 0x08},
    "silent": {},
}


def wait_for(predicate: Callable[[], object], timeout: float = 3.0, every: float = 0.01) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; its last truth value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def _queries(chunk: bytes) -> list[int] | None:
    """The kinds of the DLE EOT queries making up `chunk`, or None if it holds anything else."""
    if not chunk or len(chunk) % 3:
        return None
    kinds = []
    for start in range(0, len(chunk), 3):
        part = chunk[start : start + 3]
        if part[:2] != DLE_EOT or part[2] not in _QUERY_KINDS:
            return None
        kinds.append(part[2])
    return kinds


class FakePrinter:
    """A network receipt printer on 127.0.0.1 (port 0 picks a free one at `start()`)."""

    def __init__(self, mode: Mode = "ok", host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the fake printer listens on loopback only")
        self.host = "127.0.0.1"
        self.port = port
        self.mode: Mode = mode
        self.connections = 0  # connections accepted so far
        self.queries: list[int] = []  # every DLE EOT n seen, answered or not
        self._received = bytearray()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._online = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> FakePrinter:
        self.up()
        return self

    def stop(self) -> None:
        self.down()

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def up(self) -> None:
        """Listen (again) on `port`: plugged in."""
        if self._online.is_set():
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
            listener.listen(8)
        except OSError:
            listener.close()
            raise
        listener.settimeout(_TICK)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._online.set()
        self._thread = threading.Thread(target=self._run, name="fake-printer", daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening and drop open connections: unplugged (connections are refused)."""
        self._online.clear()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    @property
    def listening(self) -> bool:
        return self._online.is_set()

    # -- what the printer got --------------------------------------------------------------

    @property
    def received(self) -> bytes:
        """Every byte received, except the status queries that were answered."""
        with self._lock:
            return bytes(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self.queries.clear()

    # -- the threads ---------------------------------------------------------------------

    def _run(self) -> None:
        """Serve one connection at a time, as many network receipt printers do."""
        listener = self._listener
        assert listener is not None
        while self._online.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            self._serve(connection)

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(_TICK)
        with connection:
            while self._online.is_set():
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self._take(connection, chunk)

    def _take(self, connection: socket.socket, chunk: bytes) -> None:
        kinds = _queries(chunk)
        replies = REPLIES[self.mode]
        if kinds is None or not replies:  # data, or queries nobody answers
            with self._lock:
                self._received += chunk
                self.queries.extend(kinds or [])
            return
        with self._lock:
            self.queries.extend(kinds)
        try:
            connection.sendall(bytes(replies[kind] for kind in kinds))
        except OSError:
            return
