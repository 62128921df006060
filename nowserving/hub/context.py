"""What every request handler of the hub shares: the service, access control, limits."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from nowserving.domain.config import OfficeConfig, PublicAction
from nowserving.domain.errors import NotFound, NowservingError, Rejected
from nowserving.domain.links import ticket_url
from nowserving.domain.state import Status
from nowserving.domain.views import TicketView
from nowserving.hub.auth import Access, Caller, Role, require
from nowserving.hub.clients import scope_client
from nowserving.hub.live import LiveHub
from nowserving.hub.schemas import ResidentTicket
from nowserving.service.local import LocalService

STREAM_RETRY_S = 10  # a page that gave up its stream frees a place; ask again after this


class RateLimited(NowservingError):
    """Too many requests from one address; `retry_after` seconds until one more is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Hub:
    """The hub's shared parts, built once per app."""

    service: LocalService
    access: Access = field(init=False)
    # sync presence and health: outbox, cursor, last_seen, rss_mb, uptime_s, version
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    live: LiveHub = field(init=False)
    limiter: MovingWindowRateLimiter = field(init=False)
    streams: Counter[str] = field(default_factory=Counter)  # open event streams per client

    def __post_init__(self) -> None:
        self.access = Access(self.service.config, self.service.store)
        self.live = LiveHub(
            self.service,
            self.service.ticket_statuses,
            lambda view: self.resident_view(view).model_dump(),
        )
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    @property
    def config(self) -> OfficeConfig:
        return self.service.config

    def ticket_url(self, token: str, lang: str = "") -> str:
        return ticket_url(self.config, token, lang)

    def resident_ticket(self, token: str) -> ResidentTicket:
        return self.resident_view(self.service.ticket_status(token))

    def resident_view(self, view: TicketView) -> ResidentTicket:
        """What a resident may see of their ticket."""
        config = self.config
        names = config.in_every_language(config.counter(view.counter).name) if view.counter else {}
        return ResidentTicket(
            label=view.label,
            status=view.status.value,
            line=view.line,
            line_names=config.in_every_language(config.line(view.line).name),
            ahead=view.ahead,
            wait_low=view.wait.low,
            wait_high=view.wait.high,
            wait_known=view.wait.known,
            wait_point=view.wait.point,
            wait_next=view.wait.next,
            counter_name=names.get(config.default_language),
            counter_names=names,
            lang=view.lang,
            day=view.day,
            can_leave=view.status in (Status.WAITING, Status.CALLED),
        )

    def check_rate(self, request: Request, kind: PublicAction) -> None:
        """Count a request to a public endpoint against its client address's limit."""
        limit = RateLimitItemPerMinute(getattr(self.config.hub.rate_limits, kind))
        client = self.client(request)
        if not self.limiter.hit(limit, kind, client):
            reset = self.limiter.get_window_stats(limit, kind, client).reset_time
            raise RateLimited(
                "Too many requests from this address; wait a minute and retry.",
                retry_after=reset - time.time(),
            )

    def check_streams(self, request: Request) -> None:
        """Refuse an event stream beyond the client's budget (counted by guard.StreamCount)."""
        if self.streams[self.client(request)] > self.config.hub.max_streams_per_address:
            raise RateLimited(
                "Too many live updates open from this address; close some pages.",
                retry_after=STREAM_RETRY_S,
            )

    def client(self, request: Request) -> str:
        """The client's address (see `clients.client_address`): what per-address limits key on."""
        return scope_client(request.scope, self.config.hub.trusted_proxies)

    def remote_join_target(self, line: str) -> str:
        """The line a remote join goes to, if remote joining it is allowed and not full."""
        try:
            configured = self.config.line(line)
        except KeyError:
            raise NotFound(f"There is no line {line!r}.", code="no_such_line") from None
        if not configured.remote_join:
            raise Rejected(
                "This line cannot be joined remotely; please come to the office.",
                code="remote_not_allowed",
            )
        waiting_remote = self.service.waiting_count(line, source="remote")
        if waiting_remote >= configured.remote_cap:
            raise Rejected(
                "This line is full for remote joining. Please come to the office.",
                code="remote_full",
            )
        return line


bearer = HTTPBearer(auto_error=False, description="A device secret or a staff session token")


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    return hub_of(request).access.identify(credentials.credentials if credentials else None)


def allowed(request: Request, creds: HTTPAuthorizationCredentials | None, *roles: Role) -> Caller:
    return require(authenticate(request, creds), *roles)
