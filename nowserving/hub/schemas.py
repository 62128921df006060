"""Request and response bodies of the hub's API (validated by pydantic)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nowserving.views import TicketView

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Ident = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueRequest(_Body):
    line: Ident
    priority: bool = False
    lang: Annotated[str, StringConstraints(max_length=12)] = ""


class JoinRequest(_Body):
    line: Ident
    lang: Annotated[str, StringConstraints(max_length=12)] = ""


class CallTicketRequest(_Body):
    ticket: Ident
    reason: ShortText


class TransferRequest(_Body):
    to_line: Ident
    keep_place: bool = True


class PauseRequest(_Body):
    reason: ShortText


class RerouteRequest(_Body):
    to_line: Ident


class AnnouncementRequest(_Body):
    texts: dict[Annotated[str, StringConstraints(max_length=12)], str] = Field(max_length=20)


class AlertRequest(_Body):
    alert: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    message: Annotated[str, StringConstraints(max_length=300)] = ""


class LoginRequest(_Body):
    staff: Ident
    pin: Annotated[str, StringConstraints(min_length=1, max_length=12)]


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
    counter_name: str | None
    lang: str
    day: str
    can_leave: bool


class Problem(BaseModel):
    """Every error: a sentence for a person."""

    error: str
