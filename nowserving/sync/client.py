"""A device's replica keeps in step with the hub: push its own events, pull the rest.

One thread per device does the talking (requests): push the events the hub has
not acknowledged, pull the hub's events after the last position seen, keep a
stock of leased ticket numbers (kiosks), and back off while the hub is away.
Everything is idempotent (event ids; the hub acknowledges by sequence number)
and resumable (both cursors live in the replica's own SQLite file), so a sync
cut at any point simply continues next time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import requests

from nowserving.domain import rules
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import Device, OfficeConfig
from nowserving.domain.errors import HubUnavailable, NotFound, NowservingError, Rejected
from nowserving.domain.events import Event
from nowserving.domain.pairing import REMOVED, REVOKED_CODE
from nowserving.store.eventstore import EventStore
from nowserving.sync.backoff import Backoff
from nowserving.sync.protocol import (
    PROTOCOL_HEADER,
    SYNC_PROTOCOL,
    DeviceStatus,
    EventBody,
    LeaseResponse,
    PullResponse,
    PushResponse,
)
from nowserving.system import health

if TYPE_CHECKING:
    from nowserving.sync.pairing import OfficeFile

log = logging.getLogger(__name__)

PUSH_BATCH = 500
LEASE_SIZE = 20
LEASE_LOW = 8  # ask for more before a kiosk runs out
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 15.0


class HubRefused(NowservingError):
    """The hub answered, but no: wrong secret, outdated device, bad request.

    `status` is the HTTP status; `reason` is the hub's own sentence.
    """

    def __init__(self, message: str, status: int = 0, reason: str = "", code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or message
        self.code = code  # the problem's code, e.g. "device_revoked"


@dataclass
class SyncStatus:
    online: bool = False
    last_ok: int | None = None  # when the last round went through (ms, the injected clock)
    problem: str = ""
    outbox: int = 0
    pushed: int = 0
    pulled: int = 0
    revoked: bool = False  # the hub no longer knows this device: it must be paired again


def error_code(response: requests.Response | httpx.Response) -> str:
    """The `code` of the hub's error answer (e.g. "device_revoked"), or ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def error_detail(response: requests.Response | httpx.Response) -> str:
    """The sentence in the hub's error answer (an RFC 9457 problem's `detail`)."""
    return _problem(response)[0]


def _problem(response: requests.Response | httpx.Response) -> tuple[str, str]:
    """(`detail`, `code`) of the hub's error answer; the code is "" when it has none."""
    try:
        body = response.json()
    except ValueError:  # not the hub, or cut off on the way
        return response.text[:300], ""
    detail = body.get("detail") if isinstance(body, dict) else None
    code = body.get("code") if isinstance(body, dict) else None
    return (
        detail if isinstance(detail, str) else response.text[:300],
        code if isinstance(code, str) and len(code) <= 40 else "",
    )


class HubClient:
    """The hub's HTTP API as this device uses it."""

    def __init__(
        self,
        url: str,
        secret: str,
        timeout: float | tuple[float, float] = 3.0,
        verify: str | bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.verify = verify  # the office CA's file: see nowserving.sync.tls
        self.session = requests.Session()
        self.session.headers[PROTOCOL_HEADER] = str(SYNC_PROTOCOL)
        if secret:  # none only to pair
            self.session.headers["Authorization"] = f"Bearer {secret}"

    def call(
        self,
        method: str,
        path: str,
        *,
        timeout: float | tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> Any:
        """JSON from the hub; HubUnavailable when it cannot be reached, HubRefused on a 4xx.
        `timeout` for a call that may take the hub longer than usual to answer."""
        try:
            # `verify` per request: a session's own would yield to REQUESTS_CA_BUNDLE.
            response = self.session.request(
                method,
                self.url + path,
                timeout=timeout or self.timeout,
                verify=self.verify,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise HubUnavailable(f"The hub at {self.url} cannot be reached ({exc}).") from None
        if response.status_code >= 500:
            raise HubUnavailable(f"The hub had a problem ({response.status_code}).")
        if response.status_code >= 400:
            message, code = _problem(response)
            if response.status_code == 404:
                raise NotFound(message, code)
            if response.status_code in (409, 422):
                raise Rejected(message, code)  # the rules said no, as they would have here
            raise HubRefused(
                f"The hub refused this device: {message}",
                response.status_code,
                message,
                error_code(response),
            )
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:  # cut off on the way, or not the hub at all
            raise HubUnavailable(
                f"The hub's answer from {self.url} was garbled or cut off."
            ) from None

    def device_status(self) -> list[DeviceStatus]:
        """The hub and each device, as the hub last heard from them."""
        return [DeviceStatus.model_validate(row) for row in self.call("GET", "/api/sync/status")]


class SyncClient:
    """Keeps a replica store in step with the hub, on its own thread.

    Args:
        store: this device's replica.
        hub: the hub client.
        device: this device (kiosks also keep number leases topped up).
        config: the office (its lines, its time zone).
        interval: seconds between rounds while online.
        now: wall clock in ms (tests freeze or skew it): the office day, `status.last_ok`.
    """

    def __init__(
        self,
        store: EventStore,
        hub: HubClient,
        device: Device,
        config: OfficeConfig,
        writer: str,
        interval: float = 0.2,
        *,
        now: Callable[[], int] = wall_ms,
        office: OfficeFile | None = None,
    ) -> None:
        self.store = store
        self.hub = hub
        self.device = device
        self.writer = writer  # the id this replica writes its events under
        self.config = config
        self.interval = interval
        self.clock = now
        self.backoff = Backoff(FIRST_BACKOFF_S, MAX_BACKOFF_S)  # after each failed round
        self.status = SyncStatus()
        self._capped: set[tuple[str, str]] = set()  # (day, line) the hub leases no more of
        # A paired device's office, followed by its version at the hub into `config`.
        self.office = office
        self.office_version = office.load()[0] if office is not None else 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._talking = threading.Lock()  # one exchange with the hub at a time, whoever asks
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def pending(self) -> int:
        """Events written here that the hub has not acknowledged yet (read from the store)."""
        return self.store.max_seq(self.writer) - int(self.store.get_state("pushed_seq", "0"))

    def now(self) -> None:
        """Sync as soon as possible (after a local write, or to pick up a hub write)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
                self.backoff.reset()
                wait = self.interval
            except (HubUnavailable, HubRefused) as exc:
                problem = str(exc)
                if isinstance(exc, HubRefused) and exc.code == REVOKED_CODE:
                    self.status.revoked, problem = True, REMOVED
                if self.status.online or self.status.problem != problem:
                    log.warning("sync: %s", exc)
                self.status.online, self.status.problem = False, problem
                wait = self.backoff.next()
            except NowservingError as exc:  # our own store: disk full, locked
                log.error("sync: %s", exc)
                self.status.problem = str(exc)
                wait = self.backoff.next()
            except ValueError as exc:  # an answer that is JSON but not what the hub sends
                log.warning("sync: unexpected answer from the hub: %s", exc)
                self.status.online, self.status.problem = False, "Unexpected answer from the hub."
                wait = self.backoff.next()
            except Exception:  # a bug: log it loudly, but never stop syncing
                log.exception("sync: unexpected error")
                self.status.online, self.status.problem = False, "Sync error (see the log)."
                wait = self.backoff.next()
            if self.status.online:
                self._wake.wait(wait)  # a local write wakes it early
            else:
                self._stop.wait(wait)  # while the hub is away, writes do not cut the backoff
            self._wake.clear()

    def round(self) -> None:
        """One push, pull and lease check; raises when the hub cannot be reached."""
        with self._talking:
            self._push()
            self._pull()
            if self.device.role == "kiosk":
                self._top_up_leases()
        self.status.online, self.status.problem, self.status.revoked = True, "", False
        self.status.last_ok = self.clock()

    def pull(self, wait: float = 1.0) -> bool:
        """Pull now (what the hub just decided for this device); False if not done."""
        if not self._talking.acquire(timeout=wait):
            self.now()
            return False
        try:
            self._pull()
        except (HubUnavailable, HubRefused, ValueError):
            self.now()  # the answer stands; the events come with the next round
            return False
        finally:
            self._talking.release()
        return True

    def _push(self) -> None:
        acknowledged = int(self.store.get_state("pushed_seq", "0"))
        while True:
            batch = self.store.own_events_after(self.writer, acknowledged, PUSH_BATCH)
            self.status.outbox = self.store.max_seq(self.writer) - acknowledged
            # Sent even when empty: the answer says what the hub holds, and a hub restored
            # from a backup thereby asks again for what it lost.
            answer = PushResponse.model_validate(
                self.hub.call(
                    "POST",
                    "/api/sync/push",
                    json={
                        "events": [EventBody.of(e).model_dump(mode="json") for e in batch],
                        "writer": self.writer,
                        "outbox": self.status.outbox,
                        "health": health.current(),
                    },
                )
            )
            self.status.pushed += answer.accepted
            if answer.refused:
                self._hide_refused(batch, answer)
            if answer.acknowledged_seq != acknowledged:
                acknowledged = answer.acknowledged_seq
                self.store.set_state("pushed_seq", str(acknowledged))
            written = self.store.max_seq(self.writer)
            self.status.outbox = written - acknowledged
            if acknowledged >= written:
                return
            if batch and acknowledged < batch[0].seq - 1 + len(batch) and answer.accepted == 0:
                raise HubRefused(
                    f"The hub does not take event {acknowledged + 1} of {self.writer}: is this "
                    "replica file in use on two PCs? Give each PC its own data folder."
                )

    def _hide_refused(self, batch: list[Event], answer: PushResponse) -> None:
        """Keep the hub's refusals: those events leave this replica's projection too."""
        sent = {event.id: event for event in batch}
        refusals = [(sent[r.id], r.reason) for r in answer.refused if r.id in sent]
        for event, reason in refusals:
            log.warning("sync: the hub refused %s %s: %s", event.kind, event.id, reason)
        with self.store.write():
            self.store.keep_refused(refusals, own=True)

    def _pull(self) -> None:
        cursor = int(self.store.get_state("pull_cursor", "0"))
        while True:
            answer = PullResponse.model_validate(
                self.hub.call("GET", "/api/sync/pull", params={"after": cursor, "limit": 500})
            )
            if cursor > answer.latest:  # the hub was restored from a backup: read it again
                cursor = 0
                self.store.set_state("pull_cursor", "0")
                continue
            if answer.events:
                with self.store.write():
                    self.status.pulled += self.store.merge([e.event() for e in answer.events])
            if answer.next != cursor:
                cursor = answer.next
                self.store.set_state("pull_cursor", str(cursor))
            if not answer.more:
                break
        if self.office is not None and answer.office != self.office_version:
            followed = self.office.follow(self.hub, self.office_version)
            if followed is not None:
                self.office_version, self.config = followed

    def _top_up_leases(self) -> None:
        day = rules.office_day(self.clock(), self.config.zone)
        for line in self.device.lines or [line.id for line in self.config.lines]:
            if self.store.leased_left(day, line) >= LEASE_LOW:
                continue
            if (day, line) in self._capped:
                continue
            try:
                answer = self.hub.call(
                    "POST", "/api/sync/lease", json={"line": line, "count": LEASE_SIZE}
                )
            except Rejected as exc:  # over its cap: the hub shows staff an alert
                log.warning("sync: no more numbers for %s today: %s", line, exc)
                self._capped.add((day, line))  # not again today (a restart asks once more)
                continue
            lease = LeaseResponse.model_validate(answer)
            with self.store.write():
                self.store.add_lease(lease.day, lease.line, lease.start, lease.end)
