"""What every request handler of the hub shares: the service, access control, limits."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from nowserving.domain import rules
from nowserving.domain.config import Device, OfficeConfig, PublicAction
from nowserving.domain.errors import NowservingError
from nowserving.domain.links import ticket_url
from nowserving.domain.state import Status
from nowserving.domain.views import TicketView
from nowserving.hub.auth import Access, Caller, Role, require
from nowserving.hub.clients import scope_client
from nowserving.hub.live import LiveHub
from nowserving.hub.schemas import ResidentTicket
from nowserving.hub.workers import WORKERS
from nowserving.service.local import LocalService
from nowserving.store.registry import Registry

# Said in the log, on the API docs page and on the admin page while the hub has no TLS.
PLAIN_HTTP = (
    "this hub speaks plain HTTP ([hub] allow_plain_http): staff PINs, sessions and device "
    "secrets cross the network readable by anyone on it; give it tls_cert and tls_key"
)
PAIR_TRIES = 5  # wrong pairing codes a minute from one address
PAIR_TRIES_ALL = 30  # and from every address together

# Not FastAPI itself: a restarted hub issues tickets before it has imported it (fast_issue).
if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.security import HTTPAuthorizationCredentials
    from limits.strategies import MovingWindowRateLimiter

P = ParamSpec("P")
R = TypeVar("R")
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
    streams: Counter[str] = field(default_factory=Counter)  # open event streams per client

    registry: Registry = field(init=False)
    # The office these names were taken from, and (line|counter, id) -> name per language.
    _kept_names: tuple[OfficeConfig | None, dict[tuple[str, str], dict[str, str]]] = field(
        default_factory=lambda: (None, {}), init=False
    )

    def __post_init__(self) -> None:
        self.registry = Registry(self.service.store, self.service.clock_now)
        self.access = Access(self.service.config, self.service.store, devices=self._by_secret)
        self.live = LiveHub(
            self.service,
            self.service.ticket_statuses,
            lambda view: self.resident_view(view).model_dump_json(),
            self.service.lines_changed,
        )

    @cached_property
    def limiter(self) -> MovingWindowRateLimiter:
        """Per-address counts of the public endpoints' requests (made at the first one:
        `limits` is not needed for the hub to start answering)."""
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        return MovingWindowRateLimiter(MemoryStorage())

    @property
    def config(self) -> OfficeConfig:
        return self.service.config

    def _by_secret(self, secret: str, quick: bool) -> tuple[Device, bool] | None:
        record = self.registry.by_secret(secret, quick=quick)
        return None if record is None else (record.device(), record.revoked_at is not None)

    def device(self, device_id: str, *, quick: bool = False) -> Device | None:
        """A device by id: paired (the registry), else listed in the office's config
        (`quick`: read on the event loop, see EventStore.peek)."""
        record = self.registry.get(device_id, quick=quick)
        if record is not None:
            return record.device()
        return next((d for d in self.config.devices if d.id == device_id), None)

    def active_devices(self) -> list[Device]:
        """Every device that may call the hub: paired and not revoked, or from the config."""
        records = self.registry.devices()
        known = {record.id for record in records}
        paired = [record.device() for record in records if record.revoked_at is None]
        return paired + [d for d in self.config.devices if d.id not in known]

    def change_office(self, config: OfficeConfig) -> int:
        """Store a changed office and use it at once; devices follow by its new version."""
        version = self.registry.set_office(config)
        self.use_office(config)
        return version

    def use_office(self, config: OfficeConfig) -> None:
        self.service.use_office(config)  # lockouts in progress stay
        self.access.use_office(config)

    def ticket_url(self, token: str, lang: str = "") -> str:
        return ticket_url(self.config, token, lang)

    def resident_ticket(self, token: str) -> ResidentTicket:
        return self.resident_view(self.service.ticket_status(token))

    def resident_view(self, view: TicketView) -> ResidentTicket:
        """What a resident may see of their ticket."""
        config = self.config
        names = self._names("counter", view.counter) if view.counter else {}
        return ResidentTicket(
            label=view.label,
            status=view.status.value,
            line=view.line,
            line_names=self._names("line", view.line),
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

    def _names(self, kind: Literal["line", "counter"], ident: str) -> dict[str, str]:
        """A line's or counter's name in every office language, kept until the office
        changes: after a call, live updates render 2,000 residents' views of a few lines."""
        config = self.config
        kept = self._kept_names
        if kept[0] is not config:
            kept = self._kept_names = (config, {})
        names = kept[1].get((kind, ident))
        if names is None:
            item = config.line(ident) if kind == "line" else config.counter(ident)
            names = kept[1][(kind, ident)] = config.in_every_language(item.name)
        return names

    def check_rate(self, request: Request, kind: PublicAction) -> None:
        """Count a request to a public endpoint against its client address's limit."""
        from limits import RateLimitItemPerMinute

        limit = RateLimitItemPerMinute(getattr(self.config.hub.rate_limits, kind))
        client = self.client(request)
        if not self.limiter.hit(limit, kind, client):
            reset = self.limiter.get_window_stats(limit, kind, client).reset_time
            raise RateLimited(
                "Too many requests from this address; wait a minute and retry.",
                retry_after=reset - time.time(),
            )

    def check_pairing_rate(self, request: Request, failed: bool = False) -> None:
        """Wrong pairing codes: PAIR_TRIES a minute per address and PAIR_TRIES_ALL for
        everyone, so a code cannot be guessed in its 10 minutes, from one address or many.
        Checked before a try; `failed=True` counts one that failed."""
        from limits import RateLimitItemPerMinute

        for limit, who in (
            (RateLimitItemPerMinute(PAIR_TRIES), self.client(request)),
            (RateLimitItemPerMinute(PAIR_TRIES_ALL), "*"),
        ):
            if failed:
                self.limiter.hit(limit, "pair", who)
            elif not self.limiter.test(limit, "pair", who):
                reset = self.limiter.get_window_stats(limit, "pair", who).reset_time
                raise RateLimited(
                    "Too many wrong pairing codes; wait a minute, then check the code and retry.",
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
        """The client's address (see `clients.client_address`; an IPv6 one by its /64):
        what per-address limits key on."""
        return scope_client(request.scope, self.config.hub.trusted_proxies)

    def remote_join_target(self, line: str) -> str:
        """The line a remote join goes to, if remote joining it is allowed and not full."""
        rules.check_remote_join(self.config, line, self.service.remote_joins_waiting(line))
        return line


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    return hub_of(request).access.identify(credentials.credentials if credentials else None)


def allowed(request: Request, creds: HTTPAuthorizationCredentials | None, *roles: Role) -> Caller:
    return require(authenticate(request, creds), *roles)


async def allowed_now(
    request: Request, creds: HTTPAuthorizationCredentials | None, *roles: Role
) -> Caller:
    """`allowed` for an async dependency, on the event loop: devices (the registry) and
    staff sessions are read on the store's read-only connection (`EventStore.peek`), which
    no write holds up; a hop to a worker thread cost more than the rest of a board read.
    A session that ended is deleted, which only a worker thread may do."""
    caller = hub_of(request).access.identify_quick(creds.credentials if creds else None)
    if caller is None:
        return await run_in_threadpool(allowed, request, creds, *roles)
    return require(caller, *roles)


def in_thread(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """A blocking endpoint (it uses the store) as an async one that runs it in a worker thread.

    FastAPI runs a plain `def` endpoint in a worker thread too, but then validates its
    answer in *another* hop to a worker thread; each hop costs more than the validation
    itself (0.4 ms on a loaded 2-core PC). An async endpoint's answer is validated in
    place. FastAPI reads the parameters and the response model from `endpoint` itself.
    The thread is one of the hub's own (`workers`): half the cost of anyio's hop.
    """

    @functools.wraps(endpoint)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await WORKERS.run(functools.partial(endpoint, *args, **kwargs))

    return run
