"""Request and response bodies of the hub's API (validated by pydantic)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from nowserving.domain.config import Ident, LanguageCode
from nowserving.domain.payloads import TOKEN_PATTERN, AlertMessage, AnnouncementTexts
from nowserving.domain.views import TicketView

# The patterns of what arrives in paths and bodies: anything else is refused by name.
TICKET_ID = r"^[0-9a-f]{24}$"  # rules.ticket_id: derived from the token
TOKEN = TOKEN_PATTERN
SHORT_CODE = r"^[2-9A-Za-z]{8}$"  # rules.short_code, typed in by a resident (any case)
# The Idempotency-Key header of a write: its characters and length.
REQUEST_ID = r"^[A-Za-z0-9_-]+$"
REQUEST_ID_LENGTH = (8, 64)

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
TicketId = Annotated[str, StringConstraints(pattern=TICKET_ID)]
Lang = Annotated[str, StringConstraints(pattern=r"^([a-z]{2,3}(-[A-Za-z0-9]{2,8})?)?$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueRequest(_Body):
    line: Ident
    priority: StrictBool = False
    lang: Lang = ""


class JoinRequest(_Body):
    line: Ident
    lang: Lang = ""


class CallTicketRequest(_Body):
    ticket: TicketId
    reason: ShortText


class TransferRequest(_Body):
    to_line: Ident
    keep_place: StrictBool = True


class PauseRequest(_Body):
    # A [[pause_reasons]] id, free text in the office's first language, or text per language.
    reason: ShortText | Annotated[dict[LanguageCode, ShortText], Field(min_length=1, max_length=20)]


class RerouteRequest(_Body):
    to_line: Ident


class AnnouncementRequest(_Body):
    texts: AnnouncementTexts


class AlertRequest(_Body):
    alert: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")]
    message: AlertMessage = ""


class LoginRequest(_Body):
    staff: Ident
    pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{4,12}$")]


class LoginResponse(BaseModel):
    token: str
    staff: str
    name: str
    line_control: bool
    expires_in: int


class IssuedTicket(BaseModel):
    """A new ticket, with what its receipt and screen need."""

    ticket: TicketView
    token: str
    url: str


class ResidentTicket(BaseModel):
    """All a resident's page shows: nothing about anyone else."""

    label: str
    status: str
    line: str
    line_names: dict[str, str]
    ahead: int
    wait_low: int
    wait_high: int
    wait_known: bool
    wait_point: int  # "about N min", read first
    wait_next: bool  # nobody ahead and a counter free
    counter_name: str | None  # in the office's first language
    counter_names: dict[str, str]  # in each office language
    lang: str
    day: str
    can_leave: bool
