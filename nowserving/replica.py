"""The service on a PC other than the hub's: a local replica that keeps working offline.

Reads come from the replica (always there, always fast). A kiosk issues through
the hub while it can, so numbers stay in sequence; when the hub is out of reach
it issues locally from its leased block, and the ticket reaches the hub when the
line is back. Staff actions are written locally and pushed at once; if two
desks acted on the same ticket while cut off, the earliest (by clock) wins on
every node, and the other desk sees that its action did not count.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from nowserving.clock import wall_ms
from nowserving.config import Device, OfficeConfig
from nowserving.errors import HubUnavailable, Rejected, StoreError
from nowserving.service import LocalService
from nowserving.store import EventStore
from nowserving.sync import HubClient, SyncClient
from nowserving.views import TicketView

_TICKET = TypeAdapter(TicketView)
log = logging.getLogger(__name__)


def writer_id(store: EventStore, device: Device) -> str:
    """This replica's own writer id: the device id plus a suffix fixed per replica file.

    A replica rebuilt from scratch gets a new suffix, so its sequence numbers can
    never collide with those its lost predecessor already gave the hub.
    """
    writer = store.get_state("writer")
    if not writer:
        writer = f"{device.id}~{secrets.token_hex(3)}"
        store.set_state("writer", writer)
    return writer


def open_replica(path: Path) -> EventStore:
    """The replica at `path`; a damaged one is moved aside (kept) and rebuilt from the hub."""
    try:
        return EventStore(path)
    except StoreError as exc:
        if "newer Nowserving" in str(exc) or not path.exists():
            raise
        aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        path.rename(aside)
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        log.error(
            "replica %s was damaged (%s); kept as %s, rebuilding from the hub", path, exc, aside
        )
        return EventStore(path)


class NoNumbersLeft(Rejected):
    """Cut off from the hub, with this line's leased numbers used up."""


class ReplicaService(LocalService):
    """A LocalService over this PC's replica, kept in step with the hub."""

    def __init__(
        self,
        store: EventStore,
        config: OfficeConfig,
        device: Device,
        hub_url: str,
        *,
        interval: float = 0.2,
        start: bool = True,
        now: Callable[[], int] = wall_ms,
    ) -> None:
        super().__init__(store, config, writer_id(store, device), now=now)
        self.device = device
        self.hub = HubClient(hub_url, device.secret)
        self.sync = SyncClient(store, self.hub, device, config, self.clock.device, interval)
        if start:
            self.sync.start()

    def close(self) -> None:
        self.sync.stop()

    def _write(self, decide: Any) -> Any:
        events = super()._write(decide)
        self.sync.now()  # push it at once
        return events

    def issue(
        self, line: str, *, priority: bool = False, lang: str = "", source: str = "kiosk"
    ) -> TicketView:
        """Through the hub when it answers (numbers in sequence); else from the lease."""
        if self.device.role == "kiosk":
            try:
                answer = self.hub.call(
                    "POST", "/api/tickets", json={"line": line, "priority": priority, "lang": lang}
                )
            except HubUnavailable:
                pass  # cut off: issue here, from the leased numbers
            else:
                ticket: TicketView = _TICKET.validate_python(answer["ticket"])
                self.sync.now()  # bring it into the replica too
                return replace(ticket, token=answer["token"])
        return super().issue(line, priority=priority, lang=lang, source=source)

    def report_alert(self, alert: str, message: str, *, device: str | None = None) -> None:
        super().report_alert(alert, message, device=device or self.device.id)

    def _take_number(self, day: str, line: str) -> int:
        number = self.store.next_leased_number(day, line)
        if number is None:
            raise NoNumbersLeft(
                "This kiosk cannot reach the office server and has no numbers left for this "
                "service. Please ask at the front desk."
            )
        return number
