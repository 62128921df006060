"""The office config: one TOML file, validated on load.

Every problem is reported as "file: key: what is wrong", never as a traceback.
"""

from __future__ import annotations

import re
import tomllib
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
Texts = dict[LanguageCode, Annotated[str, StringConstraints(min_length=1, max_length=200)]]


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


class Line(_Strict):
    id: Ident
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]$")]
    name: Texts
    description: Texts = Field(default_factory=dict)
    typical_minutes: float = Field(default=8.0, gt=0, le=240)
    remote_join: bool = False
    remote_cap: int = Field(default=50, ge=0, le=10_000)
    icon: Ident = "generic"


class Counter(_Strict):
    id: Ident
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    lines: list[Ident] = Field(min_length=1)


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
    disabled: bool = False  # cannot sign in (kept for the audit log's names)


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


PublicAction = Literal["read", "stream", "leave", "join"]
PerMinute = Annotated[int, Field(ge=1, le=100_000)]


class RateLimits(_Strict):
    """Requests per minute from one address to the public endpoints."""

    read: PerMinute = 240
    stream: PerMinute = 60
    leave: PerMinute = 10
    join: PerMinute = 6


class Display(_Strict):
    orientation: Literal["auto", "landscape", "portrait"] = "auto"
    speech: Literal["espeak-ng", "speechd", "mock", "none"] = "espeak-ng"
    volume: float = Field(default=0.9, ge=0, le=1)
    announce_in: list[LanguageCode] = Field(default_factory=list)  # empty: every office language
    recent_calls: int = Field(default=6, ge=0, le=12)
    # A call still waiting to be spoken after this long is dropped: late, it misdirects.
    announce_max_age: float = Field(default=60, ge=5, le=600)


class Hub(_Strict):
    host: str = "0.0.0.0"
    port: int = Field(default=8400, ge=1, le=65535)
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
        return self


class OfficeConfig(_Strict):
    """The whole office: validated, immutable, shared by every part."""

    office: Office
    lines: list[Line] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    devices: list[Device] = Field(default_factory=list)
    staff: list[Staff] = Field(default_factory=list)
    printer: Printer = Field(default_factory=Printer)
    kiosk: Kiosk = Field(default_factory=Kiosk)
    display: Display = Field(default_factory=Display)
    hub: Hub = Field(default_factory=Hub)

    @model_validator(mode="after")
    def _consistent(self) -> OfficeConfig:
        _unique("lines", "id", [line.id for line in self.lines])
        _unique("lines", "prefix", [line.prefix for line in self.lines])
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
        strangers = sorted(set(self.display.announce_in) - set(self.office.languages))
        if strangers:
            raise ValueError(f"display.announce_in: not an office language: {strangers}")
        default = self.office.languages[0]
        for n, line in enumerate(self.lines):
            if default not in line.name:
                raise ValueError(f"lines[{n}].name: no name in {default!r}, the first language")
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

    def text(self, texts: dict[str, str], lang: str) -> str:
        """The text in `lang`, else in the office's first language."""
        return texts.get(lang) or texts.get(self.default_language) or next(iter(texts.values()), "")


def public_office(config: OfficeConfig, role: str) -> OfficeConfig:
    """What a device of `role` receives of the office: never a device secret, and staff
    (with PIN hashes, for signing in while the hub is away) only for desks."""
    staff = config.staff if role == "desk" else []
    return config.model_copy(update={"devices": [], "staff": staff})


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
    """Read and validate an office config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse_config(text, str(path))


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
