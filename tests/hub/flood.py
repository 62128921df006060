"""A flood of idle and slow connections from one loopback address, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import socket
from collections.abc import Iterator
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as ProcessEvent

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
        context = multiprocessing.get_context("spawn")  # no fork of a process holding Qt
        self._opened: Synchronized[int] = context.Value("q", 0)
        self._closed_by_hub: Synchronized[int] = context.Value("q", 0)
        self.pressure: ProcessEvent = context.Event()  # set once the hub closed `count`
        self._stop = context.Event()
        self._process = context.Process(target=self._run, name="flood", daemon=True)
        self._sockets: list[tuple[socket.socket, int]] = []  # (socket, bytes sent)

    @property
    def opened(self) -> int:
        return self._opened.value

    @property
    def closed_by_hub(self) -> int:
        return self._closed_by_hub.value

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_process"}  # for the child

    def start(self) -> Flood:
        # The sockets live in a child process: thousands of descriptors, some above 1024,
        # in a test process that holds a Qt application crashed it once (in a stress run).
        self._process.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.bind((self.address, 0))
        sock.connect_ex(("127.0.0.1", self.port))
        with self._opened.get_lock():
            self._opened.value += 1
        return sock

    def _run(self) -> None:
        raise_open_files(self.count + 512)
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
        with self._closed_by_hub.get_lock():
            self._closed_by_hub.value += 1
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
