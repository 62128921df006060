"""Flood protection: read deadlines, connection caps per address and in total.

uvicorn (0.54) has a keep-alive timeout but no deadline for reading a request's
headers or body, and no cap per client address: a few hundred idle or
byte-a-second connections from one machine hold the hub's sockets and file
descriptors until nothing else gets in. uvicorn's own `limit_concurrency`
does not help, since it answers 503 to *everyone* once the idle connections
fill it. So the hub runs uvicorn's httptools protocol (its C parser: h11, the
pure-Python one, cost a few tenths of a millisecond per request) with three small
additions (`guarded_protocol`): a connection beyond its address's cap or the total
cap is closed before a byte is read; a request's headers must arrive within
`header_timeout` seconds of the connection (or of the previous response), and
its body within `body_timeout`, else the connection is closed. Everything else
is uvicorn's own code.

Long-lived event streams are counted per client address by `StreamCount`, so
that one address's streams cannot use up its whole connection budget: the
routes refuse a stream beyond `max_streams_per_address` (429).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from nowserving.domain.config import Hub as HubSettings
from nowserving.hub.clients import Network, is_trusted, limit_key, scope_client

log = logging.getLogger("nowserving.hub.guard")


@dataclass
class ConnectionGuard:
    """Counts open connections per peer address (an IPv6 one by its /64: `limit_key`) and
    in total; says who may connect."""

    settings: HubSettings
    open: Counter[str] = field(default_factory=Counter)
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, peer: str) -> bool:
        """Count a new connection from `peer` if the caps allow it (then `release` it)."""
        # A trusted proxy carries many clients: only the total cap applies to it.
        per_address = not is_trusted(peer, self.settings.trusted_proxies)
        key = limit_key(peer)
        with self._lock:
            if self.total >= self.settings.max_connections or (
                per_address and self.open[key] >= self.settings.max_connections_per_address
            ):
                refused = True
            else:
                refused = False
                self.open[key] += 1
                self.total += 1
        if refused:  # one line per kind and minute: see nowserving.hub.quietlog
            log.warning("refused a connection from %s: too many open connections", peer)
        return not refused

    def release(self, peer: str) -> None:
        key = limit_key(peer)
        with self._lock:
            self.total -= 1
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]  # the table holds only addresses with open connections


def guarded_protocol(guard: ConnectionGuard) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the caps of `guard` and read deadlines."""
    settings = guard.settings

    class GuardedProtocol(HttpToolsProtocol):
        _peer: str | None = None
        _deadline: asyncio.TimerHandle | None = None
        _reading_body = False  # the newest request's headers are in, its body is not

        # uvicorn types `transport` as asyncio.Transport but asyncio.Protocol as BaseTransport.
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = self.client[0] if self.client else "unknown"
            if not guard.admit(peer):
                transport.abort()  # no answer: reading a request is what a flood wants
                return
            self._peer = peer
            self._read_within(settings.header_timeout, "request headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_deadline()
            if self._peer is not None:
                guard.release(self._peer)
                self._peer = None
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._reading_body = True  # a request without a body completes at once
            self._read_within(settings.body_timeout, "the request body")

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_body = False
            self._cancel_deadline()  # the whole request is in

        def on_response_complete(self) -> None:
            # The next request's headers are due from now, unless it is already in (a
            # pipelined one, queued) or its body is being read (that deadline runs on).
            idle = not self.pipeline and not self._reading_body
            super().on_response_complete()
            if idle and not self.transport.is_closing():
                self._read_within(settings.header_timeout, "request headers")

        def _read_within(self, seconds: float, what: str) -> None:
            self._cancel_deadline()
            self._deadline = self.loop.call_later(seconds, self._too_slow, what, seconds)

        def _cancel_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self, what: str, seconds: float) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                log.warning(
                    "closed a connection from %s: %s not received within %s s",
                    self._peer,
                    what,
                    seconds,
                )
                self.transport.close()

    return GuardedProtocol


class StreamCount:
    """Counts the open event streams (`…/events`) of each client address in `open`."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network], open: Counter[str]) -> None:
        self.app = app
        self.trusted = trusted
        self.open = open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/events"):
            await self.app(scope, receive, send)
            return
        client = scope_client(scope, self.trusted)
        self.open[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open[client] -= 1
            if self.open[client] <= 0:
                del self.open[client]
