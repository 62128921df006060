"""A flood of idle and slow connections from one loopback address, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
from collections.abc import Iterator

SLOW_REQUEST = b"GET /api/lines HTTP/1.1\r\nHost: hub\r\n" + b"X-Slow: " + b"a" * 10_000


def raise_open_files(needed: int) -> bool:
    """Raise this process's soft limit of open files to `needed` if the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return True
    if hard != resource.RLIM_INFINITY and hard < needed:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return True


class Flood:
    """`count` connections to `port` from `address`: half never send a byte, half send
    one byte of request headers a second. Every second, connections the hub closed are
    opened again, so the hub stays under pressure until `stop()`.

    Attributes:
        opened: connections opened so far.
        closed_by_hub: of those, how many the hub closed (refused or timed out).
    """

    def __init__(self, port: int, address: str, count: int) -> None:
        self.port = port
        self.address = address
        self.count = count
        self.opened = 0
        self.closed_by_hub = 0
        self.pressure = threading.Event()  # set once the hub has closed `count` connections
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flood", daemon=True)
        self._sockets: list[tuple[socket.socket, int]] = []  # (socket, bytes sent)

    def start(self) -> Flood:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.bind((self.address, 0))
        sock.connect_ex(("127.0.0.1", self.port))
        self.opened += 1
        return sock

    def _run(self) -> None:
        try:
            self._sockets = [(self._open(), 0) for _ in range(self.count)]
            while not self._stop.wait(1.0):
                self._sockets = [
                    self._tick(n, sock, sent) for n, (sock, sent) in enumerate(self._sockets)
                ]
                if self.closed_by_hub >= self.count:
                    self.pressure.set()
        finally:
            for sock, _ in self._sockets:
                sock.close()

    def _tick(self, n: int, sock: socket.socket, sent: int) -> tuple[socket.socket, int]:
        try:
            if n % 2 and sent < len(SLOW_REQUEST):
                sent += sock.send(SLOW_REQUEST[sent : sent + 1])
            if sock.recv(1, socket.MSG_PEEK) == b"":  # an answer or the hub closing it
                raise ConnectionResetError
        except (BlockingIOError, InterruptedError):
            return sock, sent  # still open, nothing to read: as a flood wants it
        except OSError:
            pass
        sock.close()
        self.closed_by_hub += 1
        return self._open(), 0


@contextlib.contextmanager
def flooding(port: int, address: str, count: int) -> Iterator[Flood]:
    """A running flood, stopped (every socket closed) on leaving the block."""
    flood = Flood(port, address, count).start()
    try:
        yield flood
    finally:
        flood.stop()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
