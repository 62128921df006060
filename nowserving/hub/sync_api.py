"""Sync for replicas on other PCs: push, pull, number leases, and who is in touch."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from nowserving import rules
from nowserving.errors import NotFound, Rejected
from nowserving.hub.api import Device, HubDep, Kiosk
from nowserving.hub.context import Hub
from nowserving.hub.problems import ERRORS, Problem
from nowserving.syncproto import (
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
)


class OutdatedDevice(Rejected):
    """The device speaks another sync protocol version (answered with 426)."""


def same_protocol(
    version: Annotated[str | None, Header(alias=PROTOCOL_HEADER)] = None,
) -> None:
    if version != str(SYNC_PROTOCOL):
        side = "this device" if (version or "0") < str(SYNC_PROTOCOL) else "the hub"
        raise OutdatedDevice(
            f"This device speaks sync protocol {version or 'unknown'}, the hub speaks "
            f"{SYNC_PROTOCOL}: update Nowserving on {side}."
        )


router = APIRouter(
    prefix="/api/sync",
    tags=["sync"],
    dependencies=[Depends(same_protocol)],
    responses={**ERRORS, 426: {"model": Problem}},
)


def _seen(hub: Hub, device: str, **facts: int) -> None:
    entry = hub.devices.setdefault(device, {"outbox": 0, "cursor": 0})
    entry.update(facts)
    entry["last_seen"] = time.monotonic()


@router.post("/push", operation_id="sync_push")
def sync_push(body: PushRequest, hub: HubDep, caller: Device) -> PushResponse:
    """Events written on a device (its own only); events the hub already has are skipped."""
    device = caller.device_id
    writers = {event.device for event in body.events} | ({body.writer} if body.writer else set())
    if len(writers) > 1 or any(w != device and not w.startswith(f"{device}~") for w in writers):
        raise Rejected("A device pushes only its own events, one replica at a time.")
    store = hub.service.store
    with store.write():
        accepted = store.merge([event.event() for event in body.events])
    _seen(hub, device, outbox=body.outbox)
    writer = writers.pop() if writers else device
    return PushResponse(accepted=accepted, acknowledged_seq=store.contiguous_seq(writer))


@router.get("/pull", operation_id="sync_pull")
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
    return PullResponse(
        events=[EventBody.of(event) for _, event in batch],
        next=last,
        more=more,
        latest=hub.service.store.last_rowid(),
    )


@router.post("/lease", operation_id="lease_numbers")
def lease_numbers(body: LeaseRequest, hub: HubDep, caller: Kiosk) -> LeaseResponse:
    """A block of today's numbers for a kiosk to use while it cannot reach the hub."""
    try:
        hub.config.line(body.line)
    except KeyError:
        raise NotFound(f"There is no line {body.line!r}.") from None
    service = hub.service
    day = rules.office_day(service.clock_now(), hub.config.zone)
    with service.store.write():
        start, end = service.store.lease_numbers(day, body.line, body.count)
    return LeaseResponse(day=day, line=body.line, start=start, end=end)


@router.get("/status", operation_id="device_status", dependencies=[])
def device_status(hub: HubDep, caller: Device) -> list[DeviceStatus]:
    """Each configured device: last seen, outbox length, how far behind it is."""
    top = hub.service.store.last_rowid()
    now = time.monotonic()
    result = []
    for device in hub.config.devices:
        entry = hub.devices.get(device.id, {})
        seen = entry.get("last_seen")
        result.append(
            DeviceStatus(
                device=device.id,
                role=device.role,
                last_seen=round(now - seen, 1) if seen is not None else None,
                outbox=int(entry.get("outbox", 0)),
                lag=max(0, top - int(entry.get("cursor", 0))) if seen is not None else top,
            )
        )
    return result
