"""Appointments: residents book a slot on `/book`, keep a link to cancel it; staff list them.

The hub decides: bookings live in its store (store/appointments.py), and each booking is
counted and written under the store's write lock, so a slot's last place goes to one
resident. The operationIds are a promise to integrators: do not rename them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from nowserving.domain.booking import Appointment, bookable_days, check_in_late, takes_bookings
from nowserving.domain.config import IDENT, Device, Ident
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.events import Kind
from nowserving.domain.links import booking_url
from nowserving.domain.notify import mask
from nowserving.domain.opening import local_date
from nowserving.domain.permissions import check_in_refusal, rest_roles
from nowserving.hub.admin_page import _qr_data_uri as qr_data_uri
from nowserving.hub.api import Credentials, HubDep, RequestId, Staff
from nowserving.hub.context import Hub, allowed, hub_of, in_thread
from nowserving.hub.deferred import Router
from nowserving.hub.pages import SECURITY_HEADERS, _language, _page
from nowserving.hub.problems import ERRORS
from nowserving.hub.schemas import TOKEN, IssuedTicket, Lang
from nowserving.system import i18n

router = Router(prefix="/api", responses=ERRORS)
pages = Router(include_in_schema=False)
LineParam = Annotated[str, Path(pattern=IDENT, description="A line's id")]
TokenParam = Annotated[str, Path(pattern=TOKEN, description="The token in a booking's link")]


class SlotOut(BaseModel):
    start: int  # ms since the epoch
    end: int
    free: int


class BookRequest(BaseModel):
    line: Ident
    start: int = Field(ge=0, le=10**14)
    contact: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    lang: Lang = ""


class AppointmentOut(BaseModel):
    """What the resident's link shows of a booking."""

    code: str
    line: str
    start: int
    end: int
    status: str


class Booked(AppointmentOut):
    token: str  # the link's secret: /a/<token> cancels
    url: str


class StaffAppointment(AppointmentOut):
    contact: str  # masked: "•••• 0147"
    booked_by: str  # the staff member who booked it on the phone; "" if the resident did


def _out(found: Appointment) -> AppointmentOut:
    return AppointmentOut(
        code=found.code, line=found.line, start=found.start, end=found.end, status=found.status
    )


@router.get("/booking/{line}/slots", operation_id="list_slots", tags=["resident"])
@in_thread
def list_slots(
    line: LineParam, hub: HubDep, request: Request, day: Annotated[date, Query()]
) -> list[SlotOut]:
    """The line's slots on an office-local date that are still to come, with free places."""
    hub.check_rate(request, "read")
    return [SlotOut(start=s.start, end=s.end, free=s.free) for s in hub.service.slots(line, day)]


@router.post("/appointments", operation_id="book_appointment", tags=["resident"], status_code=201)
@in_thread
def book_appointment(body: BookRequest, hub: HubDep, request: Request) -> Booked:
    """Book a slot for a phone number or e-mail address; 409 `slot_full` if it was taken."""
    hub.check_rate(request, "book")
    made, token = hub.service.book(
        body.line, body.start, body.contact, lang=body.lang, client=hub.client(request)
    )
    return Booked(
        **_out(made).model_dump(), token=token, url=booking_url(hub.config, token, made.lang)
    )


@router.delete("/appointments/{token}", operation_id="cancel_appointment", tags=["resident"])
@in_thread
def cancel_appointment(token: TokenParam, hub: HubDep, request: Request) -> AppointmentOut:
    """Cancel a booking through its link; its place is free again."""
    hub.check_rate(request, "book")
    return _out(hub.service.cancel_booking(token))


class MoveRequest(BaseModel):
    start: int = Field(ge=0, le=10**14)


@router.post("/appointments/{token}/move", operation_id="move_appointment", tags=["resident"])
@in_thread
def move_appointment(
    token: TokenParam, body: MoveRequest, hub: HubDep, request: Request
) -> AppointmentOut:
    """Move a booking to another free slot of its line, through its link."""
    hub.check_rate(request, "book")
    return _out(hub.service.move_booking(token, body.start))


class CheckInRequest(BaseModel):
    """One of the two: the code (a kiosk: typed, or read from the QR) or the link's token."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    token: Annotated[str, StringConstraints(pattern=TOKEN)] | None = None


class CheckedIn(IssuedTicket):
    late: bool  # came later than the grace minutes: a walk-in ticket
    message: str  # what to tell the resident, in the booking's language


@router.post("/appointments/check-in", operation_id="check_in", tags=["resident", "kiosk"])
@in_thread
def check_in(
    body: CheckInRequest,
    hub: HubDep,
    request: Request,
    credentials: Credentials,
    key: RequestId = None,
) -> CheckedIn:
    """Check a booking in, inside its window: a ticket placed by the slot's time (late
    beyond the grace minutes: a walk-in ticket, and `late`). By `token` (the booking's
    link, on the resident's phone) or by `code` (kiosks only: a code is short to type).
    Checking in again answers with the same ticket."""
    hub.check_rate(request, "book")
    if (body.code is None) == (body.token is None):
        raise Rejected("Give the booking's code or its link's token.", code="booking_unknown")
    device = "resident"
    if body.code is not None:
        kiosk = allowed(request, credentials, *rest_roles(Kind.TICKET_ISSUED))
        device = kiosk.device_id
        if kiosk.device is not None:
            _check_in_here(hub, kiosk.device, hub.service.find_booking_by_code(body.code))
    with hub.service.request(device, key if body.code is not None else None):
        view, late = hub.service.check_in(
            body.code or "",
            token=body.token or "",
            source="kiosk" if body.code is not None else "remote",
        )
    message = (
        i18n.text(view.lang, "checkin.late", minutes=hub.config.booking.grace_minutes)
        if late
        else i18n.text(view.lang, "checkin.done")
    )
    return CheckedIn(
        ticket=view.without_token(),
        token=view.token,
        url=hub.ticket_url(view.token, view.lang),
        late=late,
        message=message,
    )


def _check_in_here(hub: Hub, kiosk: Device, found: Appointment) -> None:
    """Rejected "checkin_elsewhere" when `kiosk` does not issue the booking's line (its
    `lines`, as for tickets): `detail` tells the resident, in the booking's language, to use
    another kiosk that does or to ask at the front desk (the kiosk shows it as it is)."""
    key = check_in_refusal(kiosk, hub.active_devices(), found.line)
    if key is not None:
        service = _line_name(hub, found.line, found.lang)
        raise Rejected(i18n.text(found.lang, key, service=service), code="checkin_elsewhere")


@router.get("/staff/appointments", operation_id="list_appointments", tags=["desk"])
@in_thread
def list_appointments(
    hub: HubDep,
    caller: Staff,
    day: Annotated[date | None, Query(description="Office-local date; default today")] = None,
    line: Annotated[str | None, Query(pattern=IDENT)] = None,
) -> list[StaffAppointment]:
    """A day's bookings, by slot (contacts masked)."""
    day = day or local_date(hub.service.clock_now(), hub.config.zone)
    return [
        StaffAppointment(
            **_out(a).model_dump(),
            contact=mask(a.contact) if a.contact else "",
            booked_by=a.booked_by,
        )
        for a in hub.service.list_appointments(day, line)
    ]


class StaffBookRequest(BaseModel):
    line: Ident
    start: int = Field(ge=0, le=10**14)
    # The resident's phone or e-mail, for reminders; "" if they gave none.
    contact: Annotated[str, StringConstraints(max_length=254)] = ""
    lang: Lang = ""


@router.post(
    "/staff/appointments", operation_id="staff_book_appointment", tags=["desk"], status_code=201
)
@in_thread
def staff_book_appointment(body: StaffBookRequest, hub: HubDep, caller: Staff) -> Booked:
    """Book a slot for a resident on the phone, as the signed-in staff member (kept with
    the booking); the same capacity and caps as a resident's own booking (409 `slot_full`)."""
    if caller.session is None:
        raise Rejected("Only a signed-in staff member can book for a resident.", code="no_staff")
    made, token = hub.service.book(
        body.line, body.start, body.contact, lang=body.lang, staff=caller.session.staff.id
    )
    return Booked(
        **_out(made).model_dump(), token=token, url=booking_url(hub.config, token, made.lang)
    )


# -- the residents' pages -----------------------------------------------------------------


def _clock(ms: int, hub: Hub) -> str:
    return i18n.clock_time(ms, hub.config.zone)


def _line_name(hub: Hub, line: str, lang: str) -> str:
    """A line's name in `lang`; its id if the office no longer has it (booked before)."""
    try:
        return hub.config.text(hub.config.line(line).name, lang)
    except KeyError:
        return line


@pages.get("/book", response_class=HTMLResponse)
def book_page(
    request: Request,
    lang: str | None = None,
    line: Annotated[str | None, Query(pattern=IDENT)] = None,
    day: date | None = None,
    move: Annotated[str | None, Query(pattern=TOKEN)] = None,
) -> HTMLResponse:
    """Service, then date, then a free slot and a phone or e-mail: no script needed to browse."""
    hub = hub_of(request)
    hub.check_rate(request, "read")
    chosen = _language(hub, lang)
    config = hub.config
    lines = [
        {"id": x.id, "name": config.text(x.name, chosen)}
        for x in config.lines
        if takes_bookings(config, x.id)
    ]
    context: dict[str, Any] = {
        "lines": lines,
        "line": None,
        "days": [],
        "slots": [],
        "day": "",
        "move": move or "",  # a booking's token: the chosen slot replaces its time
    }
    if line and any(x["id"] == line for x in lines):
        now = hub.service.clock_now()
        context["line"] = {"id": line, "name": _line_name(hub, line, chosen)}
        context["days"] = [
            {
                "iso": d.isoformat(),
                "name": i18n.text(chosen, f"weekday.{d.weekday()}") + f" {d.isoformat()}",
            }
            for d in bookable_days(config, now)
            if hub.service.slots(line, d)
        ]
        if day is not None:
            context["day"] = day.isoformat()
            context["slots"] = [
                {"start": s.start, "time": _clock(s.start, hub), "free": s.free}
                for s in hub.service.slots(line, day)
            ]
    return _page(request, "book.html", hub, chosen, **context)


@pages.get("/a/{token}", response_class=HTMLResponse)
def appointment_page(token: TokenParam, request: Request, lang: str | None = None) -> HTMLResponse:
    """The booking's link: its code and QR (to check in), a calendar file, and cancel."""
    hub = hub_of(request)
    hub.check_rate(request, "read")
    try:
        found = hub.service.find_booking(token)
    except NotFound:
        chosen = _language(hub, lang)
        return _page(request, "gone.html", hub, chosen, 404, message_key="book.unknown")
    chosen = _language(hub, lang, found.lang)
    when = datetime.fromtimestamp(found.start / 1000, UTC).astimezone(hub.config.zone)
    try:  # "I'm here" only inside the check-in window
        check_in_late(hub.config, found, hub.service.clock_now())
        can_check_in = True
    except Rejected:
        can_check_in = False
    return _page(
        request,
        "appointment.html",
        hub,
        chosen,
        appointment=_out(found).model_dump(),
        token=token,
        line_name=_line_name(hub, found.line, chosen),
        when=i18n.text(chosen, f"weekday.{when.weekday()}")
        + f" {when.date().isoformat()} {_clock(found.start, hub)}",
        qr=qr_data_uri(found.code),
        can_check_in=can_check_in,
        ticket_url=hub.ticket_url(found.ticket, chosen) if found.ticket else "",
    )


@pages.get("/a/{token}/appointment.ics")
def appointment_ics(token: TokenParam, request: Request) -> Response:
    """The booking as an iCalendar file, for the resident's own calendar."""
    from icalendar import Calendar, Event

    hub = hub_of(request)
    hub.check_rate(request, "read")
    found = hub.service.find_booking(token)
    if found.status != "booked":
        raise Rejected("This booking was cancelled.", code="booking_unknown")
    name = _line_name(hub, found.line, found.lang)
    calendar = Calendar()
    calendar.add("prodid", "-//Nowserving//appointment//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{found.code}@nowserving")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", datetime.fromtimestamp(found.start / 1000, UTC))
    event.add("dtend", datetime.fromtimestamp(found.end / 1000, UTC))
    event.add("summary", f"{hub.config.office.name}: {name}")
    event.add("description", f"{i18n.text(found.lang, 'book.your_code')}: {found.code}")
    event.add("location", hub.config.office.name)
    calendar.add_component(event)
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": 'attachment; filename="appointment.ics"',
        },
    )
