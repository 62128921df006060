"""The office config: one TOML file, validated on load.

Every problem is reported as "file: key: what is wrong", never as a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from nowserving.domain.errors import ConfigError

IDENT = r"^[a-z0-9][a-z0-9_-]{0,31}$"  # line, counter, device and staff ids
Ident = Annotated[str, StringConstraints(pattern=IDENT)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
MAX_LATE_PLACES = 20  # how far back a LATE reply may move a resident
# Words a text message back already means (and the carriers' own): never a line's keyword.
RESERVED_KEYWORDS = frozenset({"LEAVE", "STATUS", "LATE", "HELP", "STOP", "START", "INFO"})
Texts = dict[LanguageCode, Annotated[str, StringConstraints(min_length=1, max_length=200)]]
# A text copied from another language by `nowserving init`, waiting for a translator:
# residents get the first language's text instead, and check-config names it.
UNTRANSLATED = "[todo] "


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Office(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    timezone: str = "UTC"
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], min_length=1)
    public_base_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")] = (
        "http://localhost:8400"
    )
    retention_days: int = Field(default=30, ge=1, le=3650)
    colors: dict[Literal["primary", "accent"], str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use a name like 'Europe/Paris')"
            ) from None
        return value

    @field_validator("languages")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("colors")
    @classmethod
    def _hex_colors(cls, value: dict[str, str]) -> dict[str, str]:
        for key, color in value.items():
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
                raise ValueError(f"{key}: {color!r} is not a color like '#1a5fb4'")
        return value


class ServiceLevel(_Strict):
    """A line's target: `percent` of its residents called within `within_minutes`."""

    within_minutes: float = Field(gt=0, le=600)
    percent: float = Field(gt=0, le=100)


class Line(_Strict):
    id: Ident
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]$")]
    name: Texts
    description: Texts = Field(default_factory=dict)
    typical_minutes: float = Field(default=8.0, gt=0, le=240)
    remote_join: bool = False
    remote_cap: int = Field(default=50, ge=0, le=10_000)
    icon: Ident = "generic"
    # Removed on this office day while it had tickets: it takes no new ones, its waiting
    # residents are still called, and the hub drops it from the office the next day.
    retired_on: date | None = None
    service_level: ServiceLevel | None = None
    # Text-to-join: a text message with this word joins the line (docs/notifications.md).
    keyword: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,20}$")] | None = None

    @field_validator("keyword")
    @classmethod
    def _not_a_reply_word(cls, value: str | None) -> str | None:
        if value in RESERVED_KEYWORDS:
            raise ValueError(f"{value} is a reply word; choose another keyword")
        return value


class Counter(_Strict):
    id: Ident
    # A plain string (the older form) is read as the text of the first language.
    name: dict[LanguageCode, Annotated[str, StringConstraints(min_length=1, max_length=40)]]
    lines: list[Ident] = Field(min_length=1)


class PauseReason(_Strict):
    """A common reason to pause a line, offered at the desk already translated."""

    id: Ident
    text: Texts


class Device(_Strict):
    id: Ident
    role: Literal["kiosk", "display", "desk"]
    # The device's password at the hub; empty: the device pairs with a one-time code instead.
    secret: Annotated[str, StringConstraints(max_length=200)] = ""
    lines: list[Ident] = Field(default_factory=list)  # a kiosk's lines; empty: all
    counters: list[Ident] = Field(default_factory=list)  # a desk's counters; empty: all

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError(
                "String should have at least 16 characters (or leave it out: "
                "the device then pairs with a code from `nowserving pair`)"
            )
        return value


class Staff(_Strict):
    id: Ident
    name: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    pin_hash: Annotated[str, StringConstraints(pattern=r"^scrypt\$")]
    line_control: bool = False
    admin: bool = False  # may change the office at the hub: lines, counters, staff, devices
    disabled: bool = False  # may not sign in; their sessions end everywhere at once

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        # Shown on desks, the admin page and in reports (CSV): a line break or an escape
        # code there would forge a row or a screen.
        if re.search(r"[\x00-\x1f\x7f-\x9f]", value):
            raise ValueError("no control characters (line breaks, tabs, escapes) in a name")
        return value


class Printer(_Strict):
    kind: Literal["none", "usb", "serial", "network", "cups", "file"] = "none"
    profile: str = "TM-T88V"
    paper_mm: Literal[58, 80] = 80
    usb_vendor: int | None = None
    usb_product: int | None = None
    serial_port: str | None = None
    baudrate: int = 9600
    host: str | None = None
    port: int = Field(default=9100, ge=1, le=65535)
    cups_name: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _needs_address(self) -> Printer:
        required = {
            "usb": ("usb_vendor", "usb_product"),
            "serial": ("serial_port",),
            "network": ("host",),
            "cups": ("cups_name",),
            "file": ("path",),
        }.get(self.kind, ())
        missing = [key for key in required if getattr(self, key) is None]
        if missing:
            raise ValueError(f"kind = {self.kind!r} needs {' and '.join(missing)}")
        return self


class Kiosk(_Strict):
    ask_priority: bool = True
    idle_seconds: int = Field(default=45, ge=10, le=600)
    ticket_seconds: int = Field(default=12, ge=3, le=120)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")
MAX_SPANS = 6  # opening spans in one day (a lunch break or two)
DayHours = Annotated[str, StringConstraints(max_length=100)]
WeekHours = dict[Weekday, DayHours]


def day_spans(text: str) -> list[tuple[int, int]]:
    """ "08:00-12:00, 13:00-16:00" as minutes after midnight: [(480, 720), (780, 960)].

    "" is a closed day; "24:00" ends a span at midnight. ValueError says what is wrong.
    """
    spans: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        found = _SPAN.fullmatch(part)
        if found is None:
            raise ValueError(f"{part!r} is not opening hours like '08:00-16:00'")
        start = int(found[1]) * 60 + int(found[2])
        end = 1440 if found[3] == "24:00" else int(found[4]) * 60 + int(found[5])
        if end <= start:
            raise ValueError(f"{part!r} closes before it opens")
        if spans and start <= spans[-1][1]:
            raise ValueError(
                f"{part!r} overlaps or touches the span before it (list them in order)"
            )
        spans.append((start, end))
    if len(spans) > MAX_SPANS:
        raise ValueError(f"at most {MAX_SPANS} spans a day")
    return spans


def _check_week(week: WeekHours, key: str = "") -> WeekHours:
    """The week's hours if each day's are valid; ValueError naming `key` and the day."""
    for day, text in week.items():
        try:
            day_spans(text)
        except ValueError as exc:
            raise ValueError(f"{key}{day}: {exc}") from None
    return week


class Calendar(_Strict):
    """When the office and each line take residents (office-local times, office.timezone).

    A weekday missing from `hours` is a closed day; a line missing from `lines` keeps the
    office's hours, and a line's day missing there too.
    """

    hours: WeekHours = Field(default_factory=dict)
    lines: dict[Ident, WeekHours] = Field(default_factory=dict, max_length=500)
    closed: list[date] = Field(default_factory=list, max_length=1000)  # holidays
    # The last-ticket rule: a line stops issuing once its estimated wait runs past closing.
    stop_when_full: bool = False
    # Remote join stops this many minutes before walk-in issuing does.
    remote_join_closes_before: int = Field(default=30, ge=0, le=720)

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: WeekHours) -> WeekHours:
        return _check_week(value)

    @field_validator("lines")
    @classmethod
    def _valid_line_hours(cls, value: dict[str, WeekHours]) -> dict[str, WeekHours]:
        for line, week in value.items():
            _check_week(week, f"{line}.")
        return value

    def line_hours(self, line: str, weekday: int) -> list[tuple[int, int]]:
        """A line's spans on a weekday (0 = Monday), in minutes after midnight."""
        name = WEEKDAYS[weekday]
        own = self.lines.get(line, {})
        return day_spans(own[name] if name in own else self.hours.get(name, ""))

    def outside_office(self, line: str) -> str:
        """ "fri: 08:00-18:00 is outside the office's hours that day", or "" if it fits."""
        for weekday, name in enumerate(WEEKDAYS):
            office = day_spans(self.hours.get(name, ""))
            for start, end in self.line_hours(line, weekday):
                if not any(s <= start and end <= e for s, e in office):
                    shown = self.lines[line][name]
                    return f"{name}: {shown!r} is outside the office's hours that day"
        return ""


class Booking(_Strict):
    """Appointments residents book on the residents' `/book` page (slots lie within a line's
    hours, so booking needs a [calendar])."""

    lines: list[Ident] = Field(default_factory=list, max_length=100)  # lines taking bookings
    slot_minutes: int = Field(default=15, ge=5, le=240)
    # Bookings per slot of a line; a line not listed: its counters × slot ÷ typical minutes.
    per_slot: dict[Ident, Annotated[int, Field(ge=1, le=1000)]] = Field(default_factory=dict)
    days_ahead: int = Field(default=14, ge=1, le=365)  # how far ahead a slot may be booked
    max_per_contact: int = Field(default=2, ge=1, le=50)  # open bookings per phone or e-mail
    max_per_address: int = Field(default=6, ge=1, le=10_000)  # bookings a day per client address
    # Hours before a slot that its resident is reminded (by the [notify] channels).
    remind_hours: list[Annotated[int, Field(ge=1, le=168)]] = Field(
        default_factory=lambda: [24, 1], max_length=5
    )
    # The check-in window around a slot's start, and how late one still counts as on time.
    checkin_before: int = Field(default=30, ge=0, le=240)  # minutes before the slot
    checkin_after: int = Field(default=60, ge=0, le=240)  # minutes after: then a missed slot
    grace_minutes: int = Field(default=10, ge=0, le=240)  # later than this: a walk-in ticket
    # Appointments called in a row at one counter while walk-ins wait (fairness).
    max_in_a_row: int = Field(default=2, ge=1, le=20)
    # ... counted only once the walk-in it would pass has waited this many minutes.
    fair_after_minutes: int = Field(default=30, ge=0, le=240)

    @model_validator(mode="after")
    def _grace_within_window(self) -> Booking:
        if self.grace_minutes > self.checkin_after:
            raise ValueError("booking.grace_minutes must not exceed booking.checkin_after")
        return self


PublicAction = Literal["read", "stream", "leave", "join", "subscribe", "book"]
PerMinute = Annotated[int, Field(ge=1, le=100_000)]


class RateLimits(_Strict):
    """Requests per minute from one address to the public endpoints."""

    read: PerMinute = 240
    stream: PerMinute = 60
    leave: PerMinute = 10
    join: PerMinute = 6
    subscribe: PerMinute = 10
    book: PerMinute = 10  # book, cancel


class Display(_Strict):
    orientation: Literal["auto", "landscape", "portrait"] = "auto"
    speech: Literal["espeak-ng", "speechd", "mock", "none"] = "espeak-ng"
    volume: float = Field(default=0.9, ge=0, le=1)
    announce_in: list[LanguageCode] = Field(default_factory=list)  # empty: every office language
    recent_calls: int = Field(default=6, ge=0, le=12)
    # A call still waiting to be spoken after this long is dropped: late, it misdirects.
    announce_max_age: float = Field(default=60, ge=5, le=600)


Hostname = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.:_-]{1,253}$")]
FilePath = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Hub(_Strict):
    # Devices and staff (API, sync, docs); the residents' pages are also served here.
    host: Hostname = "0.0.0.0"
    port: int = Field(default=8400, ge=1, le=65535)
    # Residents only (phone page, short links, remote join, their live stream, static
    # files): the one listener the guest Wi-Fi may reach.
    public_host: Hostname = "0.0.0.0"
    public_port: int = Field(default=8401, ge=1, le=65535)
    # HTTPS: the hub's certificate and key (PEM), and the CA devices verify it with.
    # Relative paths are relative to the config file.
    tls_cert: FilePath | None = None
    tls_key: FilePath | None = None
    ca_file: FilePath | None = None
    allow_plain_http: bool = False  # only without tls_cert; logged as a warning
    # A reverse proxy speaks HTTPS to browsers and HTTP to the hub: the admin page's cookie
    # is then still sent only over HTTPS (Secure).
    behind_tls_proxy: bool = False
    session_hours: float = Field(default=10, ge=0.25, le=24)  # a staff session: one shift
    access_log: bool = False  # a line per request (secrets redacted), a few per minute
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list, max_length=64)
    header_timeout: float = Field(default=10, ge=1, le=300)
    body_timeout: float = Field(default=30, ge=1, le=600)
    max_connections: int = Field(default=2000, ge=10, le=100_000)
    max_connections_per_address: int = Field(default=64, ge=2, le=100_000)
    max_streams_per_address: int = Field(default=32, ge=1, le=100_000)
    purge_hour: int = Field(default=3, ge=0, le=23)  # local hour of the nightly retention purge
    # Numbers a kiosk may hold unused per line (leased for when it is cut off), and lease
    # per line and day in all: a kiosk cannot exhaust a line's numbers.
    lease_held_max: int = Field(default=100, ge=20, le=10_000)  # a kiosk asks for 20 at a time
    lease_day_max: int = Field(default=1_000, ge=20, le=50_000)

    @model_validator(mode="after")
    def _streams_leave_room(self) -> Hub:
        if self.max_streams_per_address >= self.max_connections_per_address:
            raise ValueError(
                "max_streams_per_address must be below max_connections_per_address, "
                "so an address's live streams leave it room for other requests"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        if (self.host, self.port) == (self.public_host, self.public_port):
            raise ValueError("public_host/public_port must differ from host/port")
        return self

    @property
    def tls(self) -> bool:
        """Whether the hub speaks HTTPS (else plain HTTP, which must be allowed)."""
        return self.tls_cert is not None


Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=1000)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
OFFERED = "https://offered.invalid/"  # what devices see of a gateway (public_office)


# An apprise URL naming the resident's number `{to}` once: "twilio://SID:TOKEN@+1555.../{to}".
AppriseUrl = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z][a-z0-9+.-]{0,31}://[^\s{}]*\{to\}[^\s{}]*$", max_length=1000
    ),
]


class NotifySms(_Strict):
    """A generic HTTP SMS gateway: POST {"to": "+4930...", "text": "..."} as JSON; or, with
    `apprise`, one of the providers the apprise library speaks (a secret, like the URL's key)."""

    url: Url | None = None
    apprise: AppriseUrl | None = None  # used instead of `url`; holds the provider's password
    auth_header: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")] = (
        "Authorization"
    )
    auth_value: Secret | None = None  # e.g. "Bearer ..."; never logged
    inbound_secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None
    timeout: float = Field(default=10, ge=1, le=120)

    @model_validator(mode="after")
    def _one_gateway(self) -> NotifySms:
        if self.url is not None and self.apprise is not None:
            raise ValueError("give url (a generic gateway) or apprise (a provider), not both")
        return self


class NotifyEmail(_Strict):
    """An SMTP server: STARTTLS and login when configured."""

    host: Hostname | None = None
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    # The CA that signed the server's certificate (PEM), when not one of the system's.
    ca_file: FilePath | None = None
    username: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    password: Secret | None = None
    sender: Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}$")] = (
        "nowserving@localhost"
    )
    timeout: float = Field(default=20, ge=1, le=120)

    @model_validator(mode="after")
    def _login_whole(self) -> NotifyEmail:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        return self


class NotifyPush(_Strict):
    """Web Push to the phone page (VAPID, RFC 8292): the hub signs what it sends with its key."""

    # The private P-256 key, raw, base64url (`nowserving init` makes one); never logged,
    # never sent to a device: the page gets only the public half.
    vapid_private_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{43}$")] | None = (
        None
    )
    # Whom a push service may contact about what this hub sends.
    subject: Annotated[
        str, StringConstraints(pattern=r"^(mailto:[^@\s]{1,64}@[^@\s]{1,189}|https://\S{1,200})$")
    ] = "mailto:nowserving@localhost"
    ttl: int = Field(default=3600, ge=0, le=86400)  # how long a push service keeps a message
    timeout: float = Field(default=5, ge=1, le=60)
    loopback_http: bool = False  # tests only: take push services at http://127.0.0.1


class Notify(_Strict):
    """Text messages, e-mails and push notifications to residents who asked for them."""

    near: int = Field(default=3, ge=1, le=50)  # "N ahead" is sent once, at this many or fewer
    max_tries: int = Field(default=5, ge=1, le=100)  # refusals of one message before it fails
    retry_max_seconds: float = Field(default=300, ge=0.1, le=3600)  # a down gateway's backoff cap
    late_places: int = Field(default=3, ge=1, le=MAX_LATE_PLACES)  # LATE moves back this far
    # Tickets one number or address may be given for in a day (text-to-join, kiosk, pages).
    tickets_per_address: int = Field(default=3, ge=1, le=100)
    # The office's country calling code ("1", "34"): numbers typed without "+" or "00" are
    # national (domain/notify.normalize_phone); "" takes international numbers only.
    country_code: str = Field(default="", pattern=r"^([1-9][0-9]{0,2})?$")
    # Text messages the hub may queue in a day before it refuses new "joined" ones.
    sms_per_day: int = Field(default=2000, ge=1, le=1_000_000)
    sms: NotifySms = Field(default_factory=NotifySms)
    email: NotifyEmail = Field(default_factory=NotifyEmail)
    push: NotifyPush = Field(default_factory=NotifyPush)

    @property
    def channels(self) -> frozenset[str]:
        """The channels configured: "sms", "email", "push"."""
        found = {"sms"} if self.sms.url or self.sms.apprise else set()
        found |= {"email"} if self.email.host else set()
        return frozenset(found | ({"push"} if self.push.vapid_private_key else set()))


DatabaseUrl = Annotated[
    str, StringConstraints(pattern=r"^postgres(ql)?://[^\s]*$", min_length=12, max_length=1000)
]


class City(_Strict):
    """Streaming the office's event log, anonymised, into the city's PostgreSQL database."""

    database: DatabaseUrl | None = None  # holds a password: hub only, never logged
    office_id: Ident | None = None  # this office in the city's database
    staff_names: bool = False  # staff ids leave the office only if the city turns this on
    batch: int = Field(default=1000, ge=10, le=50_000)  # events per round trip
    retry_max_seconds: float = Field(default=60, ge=0.1, le=3600)  # the database away: cap

    @model_validator(mode="after")
    def _office_named(self) -> City:
        if self.database is not None and self.office_id is None:
            raise ValueError("office_id is required with database (this office's id in it)")
        return self


class OfficeConfig(_Strict):
    """The whole office: validated, immutable, shared by every part."""

    office: Office
    lines: list[Line] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    pause_reasons: list[PauseReason] = Field(default_factory=list, max_length=30)
    devices: list[Device] = Field(default_factory=list)
    staff: list[Staff] = Field(default_factory=list)
    printer: Printer = Field(default_factory=Printer)
    kiosk: Kiosk = Field(default_factory=Kiosk)
    display: Display = Field(default_factory=Display)
    hub: Hub = Field(default_factory=Hub)
    notify: Notify = Field(default_factory=Notify)
    calendar: Calendar | None = None  # None: no opening hours, lines take residents any time
    booking: Booking = Field(default_factory=Booking)
    city: City = Field(default_factory=City)

    @model_validator(mode="before")
    @classmethod
    def _plain_counter_names(cls, data: object) -> object:
        """`name = "Counter 1"` (the older form) is the first language's text."""
        if not isinstance(data, dict):
            return data
        office, counters = data.get("office"), data.get("counters")
        languages = office.get("languages") if isinstance(office, dict) else None
        first = languages[0] if isinstance(languages, list) and languages else "en"
        if isinstance(counters, list):
            data = {
                **data,
                "counters": [
                    {**c, "name": {first: c["name"]}}
                    if isinstance(c, dict) and isinstance(c.get("name"), str)
                    else c
                    for c in counters
                ],
            }
        return data

    @model_validator(mode="after")
    def _consistent(self) -> OfficeConfig:
        _unique("lines", "id", [line.id for line in self.lines])
        _unique("pause_reasons", "id", [reason.id for reason in self.pause_reasons])
        _unique("lines", "prefix", [line.prefix for line in self.lines])
        _unique("lines", "keyword", [line.keyword for line in self.lines if line.keyword])
        _unique("counters", "id", [counter.id for counter in self.counters])
        _unique("devices", "id", [device.id for device in self.devices])
        _unique("staff", "id", [person.id for person in self.staff])
        line_ids = {line.id for line in self.lines}
        for n, counter in enumerate(self.counters):
            unknown = [line for line in counter.lines if line not in line_ids]
            if unknown:
                raise ValueError(f"counters[{n}].lines: there is no line {unknown[0]!r}")
        counter_ids = {counter.id for counter in self.counters}
        for n, device in enumerate(self.devices):
            for key, known in (("lines", line_ids), ("counters", counter_ids)):
                strangers = [x for x in getattr(device, key) if x not in known]
                if strangers:
                    raise ValueError(f"devices[{n}].{key}: there is no {key[:-1]} {strangers[0]!r}")
        calendar = self.calendar
        for line in calendar.lines if calendar is not None else {}:
            if line not in line_ids:
                raise ValueError(f"calendar.lines: there is no line {line!r}")
            if calendar is not None and (outside := calendar.outside_office(line)):
                raise ValueError(f"calendar.lines.{line}.{outside}")
        for key in ("lines", "per_slot"):
            strangers = [x for x in getattr(self.booking, key) if x not in line_ids]
            if strangers:
                raise ValueError(f"booking.{key}: there is no line {strangers[0]!r}")
        if self.booking.lines and self.calendar is None:
            raise ValueError("booking.lines: booking needs opening hours: add a [calendar]")
        strangers = sorted(set(self.display.announce_in) - set(self.office.languages))
        if strangers:
            raise ValueError(f"display.announce_in: not an office language: {strangers}")
        default = self.office.languages[0]
        for key, texts in self._resident_texts():
            if default not in texts:
                raise ValueError(f"{key}: no text in {default!r}, the first language")
        return self

    def line(self, line_id: str) -> Line:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)

    def counter(self, counter_id: str) -> Counter:
        for counter in self.counters:
            if counter.id == counter_id:
                return counter
        raise KeyError(counter_id)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.office.timezone)

    @property
    def default_language(self) -> str:
        return self.office.languages[0]

    def text(self, texts: Mapping[str, str], lang: str) -> str:
        """The text in `lang`, else in the office's first language (never a `[todo]` copy)."""
        for candidate in (texts.get(lang), texts.get(self.default_language)):
            if candidate and not candidate.startswith(UNTRANSLATED):
                return candidate
        return next(iter(texts.values()), "").removeprefix(UNTRANSLATED)

    def in_every_language(self, texts: Mapping[str, str]) -> dict[str, str]:
        """The text as each office language shows it (for a page that switches language)."""
        return {lang: self.text(texts, lang) for lang in self.office.languages}

    def counter_name(self, counter_id: str, lang: str) -> str:
        """A counter's name in `lang`; its id if the config no longer has it."""
        try:
            return self.text(self.counter(counter_id).name, lang)
        except KeyError:
            return counter_id

    def pause_reason(self, reason_id: str) -> PauseReason:
        for reason in self.pause_reasons:
            if reason.id == reason_id:
                return reason
        raise KeyError(reason_id)

    def missing_texts(self) -> list[str]:
        """Every text a resident would get in another language: "lines[2].name: no text in 'ar'".

        A text is missing in a language when it has none there or only a `[todo]` copy.
        """
        missing = []
        for key, values in self._resident_texts():
            for lang in self.office.languages:
                value = values.get(lang, "")
                if not value:
                    missing.append(f"{key}: no text in {lang!r}")
                elif value.startswith(UNTRANSLATED):
                    mark = UNTRANSLATED.strip()
                    missing.append(f"{key}: not translated into {lang!r} (still marked {mark})")
        return missing

    def _resident_texts(self) -> list[tuple[str, Mapping[str, str]]]:
        """Each per-language text of the config a resident reads or hears, by its key."""
        texts: list[tuple[str, Mapping[str, str]]] = []
        for n, line in enumerate(self.lines):
            texts.append((f"lines[{n}].name", line.name))
            if line.description:
                texts.append((f"lines[{n}].description", line.description))
        texts += [(f"counters[{n}].name", c.name) for n, c in enumerate(self.counters)]
        texts += [(f"pause_reasons[{n}].text", r.text) for n, r in enumerate(self.pause_reasons)]
        return texts


def public_office(config: OfficeConfig, role: str) -> OfficeConfig:
    """What a device of `role` receives of the office: never a device secret, nor the hub's
    own (its TLS key, the gateways' passwords: the hub alone sends residents' messages; the
    city database's address, which holds its password), and staff (with PIN hashes, for
    signing in while the hub is away) only for desks."""
    staff = config.staff if role == "desk" else []
    hub = config.hub.model_copy(update={"tls_cert": None, "tls_key": None})
    # No gateway, no password: devices send nothing. A kiosk learns only that text messages
    # are offered (it asks for a number), from a placeholder address nobody sends to.
    sms = NotifySms(url=OFFERED) if "sms" in config.notify.channels else NotifySms()
    notify = Notify(near=config.notify.near, country_code=config.notify.country_code, sms=sms)
    update = {"devices": [], "staff": staff, "hub": hub, "notify": notify, "city": City()}
    return config.model_copy(update=update)


def retired_lines(config: OfficeConfig, today: date) -> set[str]:
    """The lines retired before `today`: a new office day starts without them."""
    return {line.id for line in config.lines if line.retired_on and line.retired_on < today}


def without_lines(document: dict[str, Any], gone: set[str]) -> dict[str, Any]:
    """The office (`office_document` data) without the lines `gone`, in the counters' and
    devices' lists too (a counter left with no line is for check-config to refuse)."""

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "lines": [x for x in row["lines"] if x not in gone]} for row in rows]

    return {
        **document,
        "lines": [line for line in document["lines"] if line["id"] not in gone],
        "counters": keep(document["counters"]),
        "devices": keep(document["devices"]),
    }


def office_document(config: OfficeConfig) -> dict[str, Any]:
    """The office as JSON-ready data (what the hub keeps and sends)."""
    return config.model_dump(mode="json")


def office_from_document(data: Any, source: str = "<office>") -> OfficeConfig:
    """An office from `office_document` data; ConfigError naming the key if it is invalid."""
    try:
        return OfficeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(source, exc)) from None


def _unique(table: str, key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for n, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{table}[{n}].{key}: {value!r} is used twice")
        seen.add(value)


def parse_config(text: str, source: str = "<config>") -> OfficeConfig:
    """Validate TOML text; raise ConfigError naming the source, the key and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return OfficeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(source, exc)) from None


def load_config(path: Path | str) -> OfficeConfig:
    """Read and validate an office config file; its relative file paths become absolute."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    config = parse_config(text, str(path))
    folder = path.resolve().parent
    files = {
        key: str(folder / value)  # an absolute value stays as it is
        for key in ("tls_cert", "tls_key", "ca_file")
        if (value := getattr(config.hub, key)) is not None
    }
    email = config.notify.email
    if email.ca_file is not None:
        email = email.model_copy(update={"ca_file": str(folder / email.ca_file)})
    notify = config.notify.model_copy(update={"email": email})
    return config.model_copy(update={"hub": config.hub.model_copy(update=files), "notify": notify})


def _describe(source: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        key = _key_path(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{source}: {key}: {message}" if key else f"{source}: {message}")
    return "\n".join(problems)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
