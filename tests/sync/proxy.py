"""A misbehaving network between devices and the hub, on loopback only.

Each connection may be refused, delayed, or cut part-way, at random (seeded).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time


class ChaosProxy:
    def __init__(
        self,
        target_port: int,
        *,
        drop: float = 0.1,
        cut: float = 0.1,
        delay: float = 0.05,
        seed: int = 1,
    ) -> None:
        self.target_port = target_port
        self.drop, self.cut, self.delay = drop, cut, delay
        self.rng = random.Random(seed)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.stats = {"connections": 0, "dropped": 0, "cut": 0}
        self._live: set[socket.socket] = set()
        self._cut_off = False
        self.answers_lost = False  # requests reach the hub, answers never come back

    def __enter__(self) -> ChaosProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.stats["connections"] += 1
            if self._cut_off or self.rng.random() < self.drop:
                self.stats["dropped"] += 1
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        self._live.update((client, upstream))
        budget = self.rng.randrange(50, 4000) if self.rng.random() < self.cut else None
        budget = 0 if self.answers_lost else budget
        if budget is not None:
            self.stats["cut"] += 1
        pipes = [
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True),
            threading.Thread(target=self._pipe, args=(upstream, client, budget), daemon=True),
        ]
        for pipe in pipes:
            pipe.start()
        for pipe in pipes:
            pipe.join(timeout=30)
        for end in (client, upstream):
            self._live.discard(end)
            end.close()

    def partition(self, cut: bool = True) -> None:
        """Cut the network (open connections too) or heal it."""
        self._cut_off = cut
        for end in list(self._live) if cut else []:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def _pipe(self, source: socket.socket, sink: socket.socket, budget: int | None) -> None:
        source.settimeout(10)
        sent = 0
        try:
            while not self._stop.is_set():
                chunk = source.recv(4096)
                if not chunk:
                    break
                time.sleep(self.rng.uniform(0, self.delay))
                if budget is not None and sent + len(chunk) > budget:
                    sink.sendall(chunk[: budget - sent])
                    break  # cut mid-stream
                sink.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
