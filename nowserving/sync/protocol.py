"""What crosses the wire between a device's replica and the hub: events as JSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nowserving.domain.config import Ident
from nowserving.domain.events import Event, Kind

# Bumped whenever the sync payloads change incompatibly; the hub refuses other versions
# with a message that says which side to update.
SYNC_PROTOCOL = 1
PROTOCOL_HEADER = "X-Nowserving-Sync"
MAX_BATCH = 1000
MAX_POSITION = 2**53  # sequence numbers and store positions: far beyond any real office


class EventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z]{1,64}$")]
    device: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    seq: int = Field(ge=1, le=MAX_POSITION)
    hlc: Annotated[str, StringConstraints(pattern=r"^\d{15}\.\d{6}\..{1,64}$")]
    kind: Kind
    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    ticket: Annotated[str, StringConstraints(max_length=64)] | None = None
    line: Annotated[str, StringConstraints(max_length=64)] | None = None
    staff: Annotated[str, StringConstraints(max_length=64)] | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, event: Event) -> EventBody:
        return cls(
            id=event.id,
            device=event.device,
            seq=event.seq,
            hlc=event.hlc,
            kind=event.kind,
            day=event.day,
            ticket=event.ticket,
            line=event.line,
            staff=event.staff,
            data=event.data,
        )

    def event(self) -> Event:
        return Event(
            self.id,
            self.device,
            self.seq,
            self.hlc,
            self.kind,
            self.day,
            self.ticket,
            self.line,
            self.staff,
            self.data,
        )


class DeviceHealth(BaseModel):
    """How the device's process is doing: IT sees a growing one before residents do."""

    model_config = ConfigDict(extra="forbid")

    rss_mb: float = Field(ge=0, le=1_000_000)
    uptime_s: int = Field(ge=0, le=10**10)
    version: Annotated[str, StringConstraints(max_length=40)]


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventBody] = Field(max_length=MAX_BATCH)
    writer: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None
    outbox: int = Field(default=0, ge=0, le=MAX_POSITION)  # how many are waiting on the device
    health: DeviceHealth | None = None


class Refusal(BaseModel):
    id: str
    seq: int
    reason: str  # one line, for the desk and the log


class PushResponse(BaseModel):
    accepted: int
    # The hub holds every event of this writer from 1 up to here, with no gap, refused ones
    # included (they are never to be sent again). It can go down: a hub restored from a
    # backup asks for what it lost.
    acknowledged_seq: int
    refused: list[Refusal] = Field(default_factory=list)


class PullResponse(BaseModel):
    events: list[EventBody]
    next: int  # pass as `after` next time
    more: bool
    latest: int = 0  # the hub's newest position (below `after`: the hub was restored)
    office: int = 0  # the version of the office at the hub: a newer one is fetched


class LeaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: Ident
    count: int = Field(default=20, ge=1, le=200)


class LeaseResponse(BaseModel):
    day: str
    line: str
    start: int
    end: int


class PairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class PairedDevice(BaseModel):
    """What a PC receives for a pairing code: who it is, its secret (shown this once)."""

    id: str
    role: Literal["kiosk", "display", "desk"]
    secret: str
    lines: list[str] = Field(default_factory=list)
    counters: list[str] = Field(default_factory=list)


class OfficeCopy(BaseModel):
    """The office as a device receives it: the public part for its role, and its version."""

    version: int
    office: dict[str, Any]


class PairResponse(BaseModel):
    device: PairedDevice
    office: OfficeCopy
    # The office CA's certificate (PEM, public) when the hub speaks HTTPS with one: the
    # device keeps it and verifies the hub with it from then on.
    ca: str | None = None


class DeviceStatus(BaseModel):
    device: str
    role: str
    last_seen: float | None  # seconds ago, None if never
    outbox: int
    lag: int  # events the device has not pulled yet
    rss_mb: float | None = None  # from the device's last push (None: not reported)
    uptime_s: int | None = None
    version: str | None = None

    def shown(self) -> tuple[str, str, str, str]:
        """Last seen, memory, uptime and version, as the desk and `nowserving status` say them."""
        seen = "never" if self.last_seen is None else f"{self.last_seen:.0f} s ago"
        memory = "—" if self.rss_mb is None else f"{self.rss_mb:.0f} MB"
        up = "—" if self.uptime_s is None else f"{self.uptime_s / 3600:.1f} h"
        return seen, memory, up, self.version or "—"
