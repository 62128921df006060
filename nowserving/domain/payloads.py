"""Bounds for every event's payload, per kind: what a device may put into an event.

The hub checks each pushed event against these before the permission rule looks at
it, so no number, text or list from a device reaches the projection unchecked (one
`number` of 10**30 once made issuing on a line fail all day).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from nowserving.domain.config import MAX_LATE_PLACES, Ident, LanguageCode
from nowserving.domain.events import Event, Kind

MAX_NUMBER = 99_999
# What in an event can point to a person: retention strips it, displays never see it.
PERSONAL_KEYS = ("token", "name", "phone", "email")
Reason = Annotated[str, StringConstraints(min_length=1, max_length=200)]
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"  # rules.new_token: URL-safe base64
Token = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]
# Bounds shared with the hub's REST bodies (hub/schemas.py), which may import the core.
AnnouncementTexts = Annotated[
    dict[LanguageCode, Annotated[str, StringConstraints(max_length=500)]], Field(max_length=20)
]
AlertMessage = Annotated[str, StringConstraints(max_length=300)]
Label = Annotated[str, StringConstraints(pattern=r"^[A-Z]-\d{3,5}$")]
Minutes = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]


# The request that caused an event: `<device>/<request id>` (see service.request_ref).
RequestRef = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}/[A-Za-z0-9_-]{8,64}$")
]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    request: RequestRef | None = None


class Issued(_Payload):
    number: int = Field(ge=1, le=MAX_NUMBER)
    label: Label
    token: Token
    priority: StrictBool = False
    lang: LanguageCode
    source: Literal["kiosk", "remote"] = "kiosk"
    requested_line: Ident | None = None
    expected: Minutes | None = None  # older releases: the centre of the range shown
    shown: list[Annotated[int, Field(ge=0, le=10_000)]] | None = Field(
        default=None, min_length=2, max_length=2
    )
    point: Annotated[int, Field(ge=0, le=10_000)] | None = None  # "about N min" shown
    # A checked-in booking's slot start (ms): the hub alone issues these (permissions).
    appointment: int | None = Field(default=None, ge=0, le=10**14)


class AtCounter(_Payload):
    counter: Ident


class Called(AtCounter):
    reason: Reason | None = None
    passed_walk_ins: StrictBool = False  # an appointment called before waiting walk-ins


class Transferred(_Payload):
    to_line: Ident
    keep_place: StrictBool = True


class Paused(_Payload):
    reason: Reason  # in the office's first language; older events carry only this
    reason_id: Ident | None = None  # one of the config's [[pause_reasons]]
    texts: Annotated[dict[LanguageCode, Reason], Field(max_length=20)] | None = None


class Rerouted(_Payload):
    to_line: Ident


class Announcement(_Payload):
    texts: AnnouncementTexts


class Alert(_Payload):
    alert: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    message: AlertMessage = ""
    device: Ident


class Empty(_Payload):
    pass


class Left(_Payload):
    via: Literal["sms"] | None = None  # left by a text message (else from their page)


class Late(_Payload):
    places: Annotated[int, Field(ge=1, le=MAX_LATE_PLACES)]


class SignedIn(_Payload):
    counter: Ident | None = None
    desk: Ident | None = None  # the desk, when the hub records a sign-in to its API


PAYLOADS: dict[Kind, type[_Payload]] = {
    Kind.TICKET_ISSUED: Issued,
    Kind.TICKET_CALLED: Called,
    Kind.TICKET_RECALLED: AtCounter,
    Kind.TICKET_SERVED: Empty,
    Kind.TICKET_NO_SHOW: Empty,
    Kind.TICKET_RETURNED: Empty,
    Kind.TICKET_TRANSFERRED: Transferred,
    Kind.TICKET_LEFT: Left,
    Kind.TICKET_LATE: Late,
    Kind.LINE_PAUSED: Paused,
    Kind.LINE_RESUMED: Empty,
    Kind.LINE_REROUTED: Rerouted,
    Kind.LINE_REROUTE_ENDED: Empty,
    Kind.COUNTER_OPENED: AtCounter,
    Kind.COUNTER_CLOSED: AtCounter,
    Kind.ANNOUNCEMENT_SET: Announcement,
    Kind.DAY_ENDED: Empty,
    Kind.DEVICE_ALERT: Alert,
    Kind.STAFF_SIGNED_IN: SignedIn,
    Kind.STAFF_SIGNED_OUT: SignedIn,
}


def payload_problem(event: Event) -> str | None:
    """One line saying what is wrong with the event's payload, or None if it is in bounds."""
    try:
        PAYLOADS[event.kind].model_validate(event.data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "data"
        return f"data.{where}: {error['msg']}"
    return None
