"""Sync for replicas on other PCs: push, pull, number leases, and who is in touch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query

from nowserving.domain import permissions, rules
from nowserving.domain.config import Device as ConfiguredDevice
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.events import Event
from nowserving.hub.api import Device, HubDep, Kiosk
from nowserving.hub.auth import AuthError, Caller
from nowserving.hub.context import Hub, in_thread
from nowserving.hub.deferred import Router
from nowserving.hub.problems import ERROR_STATUSES, documented
from nowserving.store.eventstore import EventStore
from nowserving.sync.protocol import (
    MAX_BATCH,
    MAX_POSITION,
    PROTOCOL_HEADER,
    SYNC_PROTOCOL,
    DeviceStatus,
    EventBody,
    LeaseRequest,
    LeaseResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    Refusal,
)
from nowserving.system.health import current


class OutdatedDevice(Rejected):
    """The device speaks another sync protocol version (answered with 426)."""


async def same_protocol(  # async: no worker thread for a comparison
    version: Annotated[str | None, Header(alias=PROTOCOL_HEADER)] = None,
) -> None:
    if version != str(SYNC_PROTOCOL):
        side = "this device" if (version or "0") < str(SYNC_PROTOCOL) else "the hub"
        raise OutdatedDevice(
            f"This device speaks sync protocol {version or 'unknown'}, the hub speaks "
            f"{SYNC_PROTOCOL}: update Nowserving on {side}."
        )


router = Router(
    prefix="/api/sync",
    tags=["sync"],
    dependencies=[Depends(same_protocol)],
    responses=documented(*ERROR_STATUSES, 426),
)


def _seen(hub: Hub, device: str, **facts: float | str) -> None:
    entry = hub.devices.setdefault(device, {"outbox": 0, "cursor": 0})
    entry.update(facts)
    entry["last_seen"] = time.monotonic()


@dataclass(frozen=True)
class StoreFacts:
    """What the permission rule asks of the hub's store."""

    store: EventStore
    now_ms: Callable[[], int]

    def ticket_day(self, ticket: str) -> str | None:
        return self.store.ticket_day(ticket)

    def leased_to(self, device: str, day: str, line: str, number: int) -> bool:
        return self.store.leased_to(device, day, line, number)

    def number_taken(self, day: str, line: str, number: int) -> bool:
        return self.store.number_taken(day, line, number)

    def signed_in(self, desk: str, staff: str, day: str, before_hlc: str) -> bool:
        return self.store.signed_in(desk, staff, day, before_hlc)


def configured(hub: Hub, caller: Caller) -> ConfiguredDevice:
    """The configured device behind a caller (a staff session counts as its desk)."""
    device = caller.device or hub.device(caller.device_id)
    if device is None:  # a session opened on the admin page, not at a desk
        raise AuthError("Not allowed: this needs a device.", 403)
    return device


@router.post("/push", operation_id="sync_push")
@in_thread
def sync_push(body: PushRequest, hub: HubDep, caller: Device) -> PushResponse:
    """Events written on a device (its own only), each checked by the permission rule.

    Accepted events go into the log; refused ones are listed in the answer, kept in the
    audit table and counted as held (never to be sent again); events the hub already
    holds are skipped.
    """
    device = configured(hub, caller)
    writers = {event.device for event in body.events} | ({body.writer} if body.writer else set())
    if len(writers) > 1 or any(permissions.device_of(w) != device.id for w in writers):
        raise Rejected("A device pushes only its own events, one replica at a time.")
    store = hub.service.store
    facts = StoreFacts(store, hub.service.clock_now)
    refused = list[tuple[Event, str]]()

    def merge() -> list[Event]:
        merged = []
        for event in (body_event.event() for body_event in body.events):
            if store.holds(event.id):
                continue
            reason = permissions.refusal(device, event, hub.config, facts)
            if reason is None:  # one at a time: a sign-in counts for the next event
                merged += [event] if store.merge([event]) else []
            else:
                refused.append((event, reason))
        store.keep_refused(refused)
        return merged

    # In one transaction with the messages residents are owed (a call made offline too).
    accepted = len(hub.service.merge(merge))
    if refused:
        _alert_once(hub, device.id, "refused", _refused_message(device.id, refused))
    _seen(hub, device.id, outbox=body.outbox, **(body.health.model_dump() if body.health else {}))
    writer = writers.pop() if writers else device.id
    return PushResponse(
        accepted=accepted,
        acknowledged_seq=store.contiguous_seq(writer),
        refused=[Refusal(id=e.id, seq=e.seq, reason=reason) for e, reason in refused],
    )


def _refused_message(device: str, refused: list[tuple[Event, str]]) -> str:
    """One alert for a whole push: 'kiosk-2 sent 3 events that were refused: ...'."""
    reasons = "; ".join(dict.fromkeys(f"{e.kind}: {reason}" for e, reason in refused))
    count = f"{len(refused)} events that were" if len(refused) > 1 else "an event that was"
    message = f"{device} sent {count} refused: {reasons}"
    return message if len(message) <= 300 else message[:299] + "…"


@router.get("/pull", operation_id="sync_pull")
@in_thread
def sync_pull(
    hub: HubDep,
    caller: Device,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_BATCH)] = 500,
) -> PullResponse:
    """Events the hub received after position `after`, in its order; resume from `next`."""
    batch = hub.service.store.events_after(after, limit + 1)
    more = len(batch) > limit
    batch = batch[:limit]
    last = batch[-1][0] if batch else after
    _seen(hub, caller.device_id, cursor=last)
    device = configured(hub, caller)
    return PullResponse(
        events=[EventBody.of(permissions.redact(event, device)) for _, event in batch],
        next=last,
        more=more,
        latest=hub.service.store.last_rowid(),
        office=hub.registry.version(),
    )


@router.post("/lease", operation_id="lease_numbers")
@in_thread
def lease_numbers(body: LeaseRequest, hub: HubDep, caller: Kiosk) -> LeaseResponse:
    """A block of today's numbers for a kiosk to use while it cannot reach the hub.

    Capped per kiosk and line: `[hub] lease_held_max` unused numbers held, and
    `lease_day_max` leased per day; a refused lease is a 409 and a device alert.
    """
    try:
        hub.config.line(body.line)
    except KeyError:
        raise NotFound(f"There is no line {body.line!r}.") from None
    device = configured(hub, caller)
    problem = permissions.line_refusal(device, body.line)
    if problem:
        raise Rejected(f"{problem}.")
    service, limits = hub.service, hub.config.hub
    day = rules.office_day(service.clock_now(), hub.config.zone)
    with service.store.write():
        leased, used = service.store.lease_usage(device.id, day, body.line)
        if leased - used + body.count > limits.lease_held_max:
            problem = f"holds {leased - used} unused numbers (at most {limits.lease_held_max})"
        elif leased + body.count > limits.lease_day_max:
            problem = f"has leased {leased} numbers today (at most {limits.lease_day_max})"
        else:
            start, end = service.store.lease_numbers(day, body.line, body.count, device.id)
            return LeaseResponse(day=day, line=body.line, start=start, end=end)
    message = f"{device.id} asked for more numbers of {body.line} but {problem}."
    _alert_once(hub, device.id, "lease", message)
    raise Rejected(message)


def _alert_once(hub: Hub, device: str, alert: str, message: str) -> None:
    """A device alert for the desk, unless the very same one is showing already."""
    if hub.service.state.alerts.get((device, alert)) != message:
        hub.service.report_alert(alert, message, device=device)


@router.get("/status", operation_id="device_status", dependencies=[])
@in_thread
def device_status(hub: HubDep, caller: Device) -> list[DeviceStatus]:
    """The hub, then each configured device: last seen, outbox length, how far behind it
    is, and its memory, uptime and version as it last reported them."""
    top = hub.service.store.last_rowid()
    now = time.monotonic()
    result = [DeviceStatus(device="hub", role="hub", last_seen=0, outbox=0, lag=0, **current())]
    for device in hub.active_devices():
        entry = hub.devices.get(device.id, {})
        seen = entry.get("last_seen")
        result.append(
            DeviceStatus(
                device=device.id,
                role=device.role,
                last_seen=round(now - seen, 1) if seen is not None else None,
                outbox=int(entry.get("outbox", 0)),
                lag=max(0, top - int(entry.get("cursor", 0))) if seen is not None else top,
                rss_mb=entry.get("rss_mb"),
                uptime_s=entry.get("uptime_s"),
                version=entry.get("version"),
            )
        )
    return result
