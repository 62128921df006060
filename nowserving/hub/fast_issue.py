"""A kiosk's ticket, issued without the web framework: the hub's most frequent write, and the
first request a restarted hub must answer.

FastAPI's routing, dependency solving and answer validation cost about 0.5 ms of an issue
whose store work takes 1 ms, and importing FastAPI takes 0.2-0.3 s of CPU: a restarted hub
could not issue a ticket before it had. `FastIssue` stands in front of the application and
answers an ordinary issue request itself (a known kiosk, a JSON body and key that validate),
with the same checks, the same service call and the same answer as the `issue_ticket` route
(`issued_ticket`, which that route calls too), an error of the rules or the store included
(`problems.refusal`, as the application's handlers answer it). Anything else it hands to
the application untouched, body and all, before it has tried anything: no or an unknown
credential, a caller without the kiosk's rights, a body or key that does not validate, a
body over the limit, a store that cannot be read.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nowserving.domain.errors import Rejected
from nowserving.domain.events import Kind
from nowserving.domain.permissions import line_refusal, rest_roles
from nowserving.domain.views import TicketView
from nowserving.hub.auth import Caller, require
from nowserving.hub.context import Hub
from nowserving.hub.problems import (
    CRASHED,
    MAX_BODY_BYTES,
    declared_too_large,
    problem,
    refusal,
    status_of,
)
from nowserving.hub.schemas import REQUEST_ID, REQUEST_ID_LENGTH, IssuedTicket, IssueRequest
from nowserving.hub.workers import WORKERS

log = logging.getLogger("nowserving.hub")
PATH = "/api/tickets"
ROLES = rest_roles(Kind.TICKET_ISSUED)  # the issue_ticket route's (`api.Kiosk`)
_REQUEST_ID = re.compile(REQUEST_ID)
_JSON = re.compile(r"application/json\s*(;.*)?", re.IGNORECASE)


def issued_ticket(hub: Hub, caller: Caller, body: IssueRequest, key: str | None) -> IssuedTicket:
    """Issue a ticket at `caller`'s kiosk (the issue_ticket route; in a worker thread)."""
    problem = line_refusal(caller.device, body.line) if caller.device else None
    if problem:
        raise Rejected(f"{problem}.")
    with hub.service.request(caller.device_id, key):
        view = hub.service.issue(body.line, priority=body.priority, lang=body.lang, source="kiosk")
    return issued(hub, view)


def issued(hub: Hub, view: TicketView) -> IssuedTicket:
    """The answer to an issue: the ticket as anyone may see it, its token and its page."""
    return IssuedTicket(
        ticket=view.without_token(), token=view.token, url=hub.ticket_url(view.token, view.lang)
    )


class FastIssue:
    """`app`, with ordinary `POST /api/tickets` requests answered here (see the module).

    Args:
        hub: the hub's shared parts (the application's own, once it is built).
        app: the application.
    """

    def __init__(self, hub: Hub, app: ASGIApp) -> None:
        self.hub = hub
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not takes(scope):
            await self.app(scope, receive, send)
            return
        if declared_too_large(scope, MAX_BODY_BYTES):
            await self.app(scope, receive, send)  # its BodyLimit answers
            return
        body, more = await _read(receive, MAX_BODY_BYTES)
        if body is None:  # the client went away
            return
        whole = not more and len(body) <= MAX_BODY_BYTES
        request = _ordinary(self.hub, scope, body) if whole else None
        if request is None:
            await self.app(scope, _replaying(body, more, receive), send)
            return
        try:
            answered = await WORKERS.run(lambda: issued_ticket(self.hub, *request))
        except Exception as error:  # answered here: a retry by the route could issue twice
            status = status_of(error)
            if status is None:  # as app.CrashGuard: the log has it, the kiosk a sentence
                log.exception("unexpected error on POST %s", PATH)
            answer = problem(500, CRASHED) if status is None else refusal(error, status)
            await answer(scope, receive, send)
            return
        data = answered.model_dump_json().encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def takes(scope: Scope) -> bool:
    """Whether `scope` is an issue request, which `FastIssue` may answer."""
    return bool(scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH)


Ordinary = tuple[Caller, IssueRequest, str | None]  # the caller, the body, the request id


def _ordinary(hub: Hub, scope: Scope, body: bytes) -> Ordinary | None:
    """What an issue request `FastIssue` answers asks for, else None."""
    headers = Headers(scope=scope)  # as Starlette reads them: the first of each name
    scheme, _, secret = headers.get("authorization", "").partition(" ")  # as HTTPBearer
    if scheme.lower() != "bearer" or not _JSON.fullmatch(headers.get("content-type", "")):
        return None
    key = headers.get("idempotency-key")
    shortest, longest = REQUEST_ID_LENGTH
    if key is not None and not (_REQUEST_ID.fullmatch(key) and shortest <= len(key) <= longest):
        return None
    # Reads only: whatever goes wrong (a refused caller, a body that does not validate or
    # nests too deep, a store that cannot be read), the route answers it as it always does.
    try:
        caller = hub.access.identify_quick(secret.strip())  # the store's read connection
        if caller is None:
            return None
        require(caller, *ROLES)
        parsed = IssueRequest.model_validate(json.loads(body))  # as FastAPI validates a body
    except Exception:
        return None
    return caller, parsed, key


async def _read(receive: Receive, limit: int) -> tuple[bytes | None, bool]:
    """The request's body, or its first chunks once they are over `limit` bytes, and
    whether more is to come (None if the client went away)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
        if size > limit or not more:
            return b"".join(chunks), more


def _replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    """`receive` for the application: what was read first, then the rest as it comes."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more}

    return replay
