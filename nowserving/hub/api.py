"""The JSON API for kiosks, displays, desks and integrators.

Each route is one service call. The operationIds are a promise to integrators:
do not rename them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse
from starlette.types import Message as ASGIMessage
from starlette.types import Send

from nowserving.domain.config import IDENT
from nowserving.domain.events import Kind
from nowserving.domain.permissions import counter_refusal, rest_roles
from nowserving.domain.views import BoardView, CounterView, LineView, TicketView
from nowserving.hub.auth import AuthError, Caller, Role
from nowserving.hub.context import Hub, allowed_now, hub_of, in_thread
from nowserving.hub.deferred import Router
from nowserving.hub.fast_issue import issued, issued_ticket
from nowserving.hub.problems import ERRORS
from nowserving.hub.schemas import (
    REQUEST_ID,
    REQUEST_ID_LENGTH,
    TICKET_ID,
    TOKEN,
    AlertRequest,
    AnnouncementRequest,
    CallTicketRequest,
    IssuedTicket,
    IssueRequest,
    JoinRequest,
    LoginRequest,
    LoginResponse,
    PauseRequest,
    RerouteRequest,
    ResidentTicket,
    TransferRequest,
)

router = Router(prefix="/api", responses=ERRORS)


# The dependencies every request resolves are async when they need no store: a sync one
# costs a hop to a worker thread and back, more than the rest of a health check.
async def _hub(request: Request) -> Hub:
    return hub_of(request)


HubDep = Annotated[Hub, Depends(_hub)]
bearer = HTTPBearer(auto_error=False, description="A device secret or a staff session token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
# The client's id for a write request: a retry with the same id gets the first answer.
RequestId = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=REQUEST_ID_LENGTH[0],
        max_length=REQUEST_ID_LENGTH[1],
        pattern=REQUEST_ID,
        description="The client's id for this write (8-64 of A-Z a-z 0-9 _ -): a retry "
        "with the same id from the same device gets the first answer, for the whole day.",
    ),
]


def needs(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, if signed in with one of `roles`."""

    async def dependency(request: Request, credentials: Credentials) -> Caller:
        return await allowed_now(request, credentials, *roles)

    return dependency


# The roles come from the one permission table the sync push also checks events with.
Device = Annotated[Caller, Depends(needs("kiosk", "display", "desk", "staff"))]
Kiosk = Annotated[Caller, Depends(needs(*rest_roles(Kind.TICKET_ISSUED)))]
DeskDevice = Annotated[Caller, Depends(needs(*rest_roles(Kind.STAFF_SIGNED_IN)))]
Staff = Annotated[Caller, Depends(needs(*rest_roles(Kind.TICKET_CALLED)))]
LineControl = Annotated[Caller, Depends(needs(*rest_roles(Kind.LINE_PAUSED)))]
Alerting = Annotated[Caller, Depends(needs(*rest_roles(Kind.DEVICE_ALERT)))]
DayControl = Annotated[Caller, Depends(needs(*rest_roles(Kind.DAY_ENDED)))]
CounterParam = Annotated[str, Path(pattern=IDENT, description="A counter's id")]


async def staff_at_counter(
    counter: CounterParam, request: Request, credentials: Credentials
) -> Caller:
    """Staff, signed in at a desk that may act for `counter` (the sync push's rule too)."""
    # Both reads, the session and the desk, on the event loop (see allowed_now).
    caller = await allowed_now(request, credentials, *rest_roles(Kind.TICKET_CALLED))
    desk = hub_of(request).device(caller.device_id, quick=True)  # from the registry
    if desk is None:  # e.g. a session of the admin page: counters are served from desks
        raise AuthError("Not allowed: act at a counter from a desk where you signed in.", 403)
    problem = counter_refusal(desk, counter)
    if problem:
        raise AuthError(f"Not allowed: {problem}.", 403)
    return caller


StaffAtCounter = Annotated[Caller, Depends(staff_at_counter)]
LineParam = Annotated[str, Path(pattern=IDENT, description="A line's id")]
TicketParam = Annotated[str, Path(pattern=TICKET_ID, description="A ticket's id (not its token)")]
TokenParam = Annotated[str, Path(pattern=TOKEN, description="The token in a resident's QR code")]


# -- public ------------------------------------------------------------------------------


@router.get("/health", operation_id="health", tags=["public"])
async def health(hub: HubDep) -> dict[str, Any]:
    # ready: False only from hub.starting, while the application is still being built.
    return {
        "ok": True,
        "office": hub.config.office.name,
        "followers": hub.live.followers,
        "ready": True,
    }


@router.get("/lines", operation_id="list_lines", tags=["public"])
@in_thread
def list_lines(hub: HubDep, request: Request) -> list[LineView]:
    """Every line with people waiting, the estimated wait and whether it is paused."""
    hub.check_rate(request, "read")
    return hub.service.lines()


@router.get("/tickets/{token}", operation_id="ticket_status", tags=["resident"])
@in_thread
def ticket_status(token: TokenParam, hub: HubDep, request: Request) -> ResidentTicket:
    """A resident's own ticket, by the token in their QR code."""
    hub.check_rate(request, "read")
    return hub.resident_ticket(token)


@router.post("/tickets/{token}/leave", operation_id="leave_line", tags=["resident"])
@in_thread
def leave_line(
    token: TokenParam, hub: HubDep, request: Request, key: RequestId = None
) -> ResidentTicket:
    """The resident leaves the line."""
    hub.check_rate(request, "leave")
    with hub.service.request("phone", key):
        hub.service.cancel(token)
    return hub.resident_ticket(token)


@router.get("/tickets/{token}/events", operation_id="follow_ticket", tags=["resident"])
async def follow_ticket(token: TokenParam, hub: HubDep, request: Request) -> EventSourceResponse:
    """Server-Sent Events: the resident's ticket now and after every change."""
    hub.check_rate(request, "stream")
    hub.check_streams(request)
    first = hub.resident_ticket(token).model_dump_json()  # 404/410 before the stream starts
    return _stream(hub.live.ticket_stream(token, first))


@router.post("/join", operation_id="join_remotely", tags=["resident"], status_code=201)
@in_thread
def join_remotely(
    body: JoinRequest, hub: HubDep, request: Request, key: RequestId = None
) -> IssuedTicket:
    """Take a ticket from a phone, for lines that allow remote joining."""
    hub.check_rate(request, "join")
    line = hub.remote_join_target(body.line)
    with hub.service.request("phone", key):
        view = hub.service.issue(line, lang=body.lang, source="remote")
    return issued(hub, view)


# -- devices -----------------------------------------------------------------------------


@router.post("/tickets", operation_id="issue_ticket", tags=["kiosk"], status_code=201)
@in_thread
def issue_ticket(
    body: IssueRequest, hub: HubDep, caller: Kiosk, key: RequestId = None
) -> IssuedTicket:
    """Issue a ticket; it is stored before the answer is sent.

    An ordinary request does not reach this route: `fast_issue` answers it the same way.
    """
    return issued_ticket(hub, caller, body, key)


@router.get("/board", operation_id="get_board", tags=["display"])
@in_thread
def get_board(hub: HubDep, caller: Device) -> BoardView:
    """Calls, lines, counters, the announcement and device alerts."""
    return hub.service.board()


@router.get("/board/events", operation_id="follow_board", tags=["display"])
async def follow_board(
    hub: HubDep,
    caller: Device,
    request: Request,
    last_event_id: Annotated[str | None, Header(max_length=120)] = None,
) -> EventSourceResponse:
    """Server-Sent Events: the board after every change; resumes with Last-Event-ID."""
    hub.check_streams(request)
    snapshots = hub.live.board_stream(last_event_id)
    if caller.device is not None:
        snapshots = _until_revoked(hub, caller.device.id, snapshots)
    return _stream(snapshots)


@router.post("/alerts", operation_id="report_alert", tags=["kiosk"], status_code=204)
@in_thread
def report_alert(body: AlertRequest, hub: HubDep, caller: Alerting, key: RequestId = None) -> None:
    """A device problem for staff to see (paper out, ...); an empty message clears it."""
    with hub.service.request(caller.device_id, key):
        hub.service.report_alert(body.alert, body.message, device=caller.device_id)


# -- staff -------------------------------------------------------------------------------


@router.post("/staff/login", operation_id="staff_login", tags=["staff"])
@in_thread
def staff_login(
    body: LoginRequest, hub: HubDep, caller: DeskDevice, request: Request
) -> LoginResponse:
    """Exchange a staff PIN (at a desk device) for a session token."""
    session = hub.access.sign_in(caller, body.staff, body.pin, hub.client(request))
    staff = session.staff
    # Recorded, so the desk's own events by this clerk are taken when it pushes them.
    hub.service.record_sign_in(staff.id, None, desk=session.device)
    return LoginResponse(
        token=session.token,
        staff=staff.id,
        name=staff.name,
        line_control=staff.line_control,
        expires_in=int(session.expires - hub.access.now()),
    )


@router.post("/staff/logout", operation_id="staff_logout", tags=["staff"], status_code=204)
@in_thread
def staff_logout(hub: HubDep, caller: Staff, credentials: Credentials) -> None:
    if credentials is not None:
        hub.access.sign_out(credentials.credentials)
    if caller.staff_id is not None:
        hub.service.record_sign_in(caller.staff_id, None, signed_in=False, desk=caller.device_id)


@router.get("/counters/{counter}", operation_id="get_counter", tags=["staff"])
@in_thread
def get_counter(counter: CounterParam, hub: HubDep, caller: Device) -> CounterView:
    return hub.service.counter(counter)


@router.get("/counters/{counter}/queue", operation_id="get_queue", tags=["staff"])
@in_thread
def get_queue(counter: CounterParam, hub: HubDep, caller: Staff) -> list[TicketView]:
    """Who is waiting for this counter, in the order they will be called."""
    return hub.service.queue(counter)


# Every staff write below is decided here, under the hub's write lock, and answered with
# its result; with an Idempotency-Key a retry gets that same result, never a second action.


@router.post("/counters/{counter}/open", operation_id="open_counter", tags=["staff"])
@in_thread
def open_counter(
    counter: CounterParam, hub: HubDep, caller: StaffAtCounter, key: RequestId = None
) -> CounterView:
    with hub.service.request(caller.device_id, key):
        return hub.service.open_counter(counter, staff=caller.staff_id)


@router.post("/counters/{counter}/close", operation_id="close_counter", tags=["staff"])
@in_thread
def close_counter(
    counter: CounterParam, hub: HubDep, caller: StaffAtCounter, key: RequestId = None
) -> CounterView:
    with hub.service.request(caller.device_id, key):
        return hub.service.close_counter(counter, staff=caller.staff_id)


@router.post("/counters/{counter}/call-next", operation_id="call_next", tags=["staff"])
@in_thread
def call_next(
    counter: CounterParam, hub: HubDep, caller: StaffAtCounter, key: RequestId = None
) -> TicketView | None:
    """Call the next resident to this counter; null when nobody is waiting for it."""
    with hub.service.request(caller.device_id, key):
        return hub.service.call_next(counter, staff=caller.staff_id)


@router.post("/counters/{counter}/call", operation_id="call_ticket", tags=["staff"])
@in_thread
def call_ticket(
    counter: CounterParam,
    body: CallTicketRequest,
    hub: HubDep,
    caller: StaffAtCounter,
    key: RequestId = None,
) -> TicketView:
    """Call one ticket out of order; the reason is kept in the audit log."""
    with hub.service.request(caller.device_id, key):
        return hub.service.call_ticket(
            counter, body.ticket, reason=body.reason, staff=caller.staff_id
        )


@router.post("/staff/tickets/{ticket}/recall", operation_id="recall_ticket", tags=["staff"])
@in_thread
def recall_ticket(
    ticket: TicketParam, hub: HubDep, caller: Staff, key: RequestId = None
) -> TicketView:
    with hub.service.request(caller.device_id, key):
        return hub.service.recall(ticket, staff=caller.staff_id)


@router.post("/staff/tickets/{ticket}/complete", operation_id="complete_ticket", tags=["staff"])
@in_thread
def complete_ticket(
    ticket: TicketParam, hub: HubDep, caller: Staff, key: RequestId = None
) -> TicketView:
    with hub.service.request(caller.device_id, key):
        return hub.service.complete(ticket, staff=caller.staff_id)


@router.post("/staff/tickets/{ticket}/no-show", operation_id="mark_no_show", tags=["staff"])
@in_thread
def mark_no_show(
    ticket: TicketParam, hub: HubDep, caller: Staff, key: RequestId = None
) -> TicketView:
    with hub.service.request(caller.device_id, key):
        return hub.service.no_show(ticket, staff=caller.staff_id)


@router.post("/staff/tickets/{ticket}/return", operation_id="return_no_show", tags=["staff"])
@in_thread
def return_no_show(
    ticket: TicketParam, hub: HubDep, caller: Staff, key: RequestId = None
) -> TicketView:
    """A resident marked no-show came back: they wait again at their old place."""
    with hub.service.request(caller.device_id, key):
        return hub.service.return_no_show(ticket, staff=caller.staff_id)


@router.post("/staff/tickets/{ticket}/transfer", operation_id="transfer_ticket", tags=["staff"])
@in_thread
def transfer_ticket(
    ticket: TicketParam, body: TransferRequest, hub: HubDep, caller: Staff, key: RequestId = None
) -> TicketView:
    with hub.service.request(caller.device_id, key):
        return hub.service.transfer(
            ticket, body.to_line, keep_place=body.keep_place, staff=caller.staff_id
        )


@router.post("/lines/{line}/pause", operation_id="pause_line", tags=["line control"])
@in_thread
def pause_line(
    line: LineParam, body: PauseRequest, hub: HubDep, caller: LineControl, key: RequestId = None
) -> LineView:
    with hub.service.request(caller.device_id, key):
        return hub.service.pause_line(line, body.reason, staff=caller.staff_id)


@router.post("/lines/{line}/resume", operation_id="resume_line", tags=["line control"])
@in_thread
def resume_line(
    line: LineParam, hub: HubDep, caller: LineControl, key: RequestId = None
) -> LineView:
    with hub.service.request(caller.device_id, key):
        return hub.service.resume_line(line, staff=caller.staff_id)


@router.post("/lines/{line}/reroute", operation_id="reroute_line", tags=["line control"])
@in_thread
def reroute_line(
    line: LineParam, body: RerouteRequest, hub: HubDep, caller: LineControl, key: RequestId = None
) -> LineView:
    """Send this line's waiting and new residents to another line until the reroute ends."""
    with hub.service.request(caller.device_id, key):
        return hub.service.reroute_line(line, body.to_line, staff=caller.staff_id)


@router.post("/lines/{line}/end-reroute", operation_id="end_reroute", tags=["line control"])
@in_thread
def end_reroute(
    line: LineParam, hub: HubDep, caller: LineControl, key: RequestId = None
) -> LineView:
    with hub.service.request(caller.device_id, key):
        return hub.service.end_reroute(line, staff=caller.staff_id)


@router.put(
    "/announcement", operation_id="set_announcement", tags=["line control"], status_code=204
)
@in_thread
def set_announcement(
    body: AnnouncementRequest, hub: HubDep, caller: LineControl, key: RequestId = None
) -> None:
    """The lobby ticker, per language; empty texts clear it."""
    with hub.service.request(caller.device_id, key):
        hub.service.set_announcement(body.texts, staff=caller.staff_id)


@router.post("/day/end", operation_id="end_day", tags=["line control"], status_code=204)
@in_thread
def end_day(hub: HubDep, caller: DayControl, key: RequestId = None) -> None:
    """Close today: waiting residents' tickets expire and no more are issued."""
    with hub.service.request(caller.device_id, key):
        hub.service.end_day(staff=caller.staff_id)


# -- helpers -----------------------------------------------------------------------------


async def _until_revoked(
    hub: Hub, device: str, snapshots: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """A device's stream ends at the first board after the device was revoked."""
    async for snapshot in snapshots:
        record = hub.registry.get(device)
        if record is not None and record.revoked_at is not None:
            return
        yield snapshot


def _stream(frames: AsyncIterator[bytes]) -> EventSourceResponse:
    """The live hub's frames (each event's bytes, made once for every phone), written
    as they are; the live hub sends the keep-alives (after 15 s of silence)."""
    return _Frames(frames, ping=0, headers={"Cache-Control": "no-store"})


class _Frames(EventSourceResponse):
    """An event stream without sse-starlette's timeout scope around each send: the hub
    sets no send timeout, so the scope never fired, and after a call with 2,000 phones
    following, opening it cost a third of the write itself."""

    async def _send_with_timeout(self, send: Send, message: ASGIMessage) -> None:
        await send(message)
