"""Residents' text messages and e-mails: leaving a contact for a ticket, and what the
desk sees of deliveries that failed. See docs/notifications.md.

The operationIds are a promise to integrators: do not rename them.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nowserving.domain.errors import NotFound
from nowserving.domain.notify import (
    MAX_EMAIL,
    MAX_ENDPOINT,
    Channel,
    Contact,
    mask,
    normalize_email,
    normalize_phone,
    normalize_push,
)
from nowserving.domain.payloads import TOKEN_PATTERN
from nowserving.hub.api import HubDep, Kiosk, Staff, TokenParam
from nowserving.hub.auth import AuthError
from nowserving.hub.context import hub_of, in_thread
from nowserving.hub.deferred import Router
from nowserving.hub.problems import ERRORS
from nowserving.service.local import Handled

router = Router(prefix="/api", responses=ERRORS)


B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class PushKeys(BaseModel):
    p256dh: Annotated[str, Field(min_length=87, max_length=88, pattern=B64URL)]
    auth: Annotated[str, Field(min_length=22, max_length=24, pattern=B64URL)]


class PushSubscription(BaseModel):
    """A browser's `PushSubscription.toJSON()`."""

    model_config = ConfigDict(extra="ignore")  # browsers add expirationTime

    endpoint: Annotated[str, Field(min_length=10, max_length=MAX_ENDPOINT)]
    keys: PushKeys


class SubscribeRequest(BaseModel):
    """One way to reach the resident: a phone number, an e-mail address or a push
    subscription from their phone page."""

    model_config = ConfigDict(extra="forbid")

    phone: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None,
        description="+1 510 555 0147, or a national number where the office set "
        "[notify] country_code",
    )
    email: Annotated[str, Field(min_length=3, max_length=MAX_EMAIL)] | None = None
    push: PushSubscription | None = None

    _email = field_validator("email")(lambda value: value and normalize_email(value))

    @model_validator(mode="after")
    def _one_of_them(self) -> SubscribeRequest:
        if [self.phone, self.email, self.push].count(None) != 2:
            raise ValueError("give either a phone number, an e-mail address or a push subscription")
        return self


class ShownContact(BaseModel):
    channel: Channel
    shown: str  # masked: "•••• 0147", "a•••@example.org"


class Subscription(BaseModel):
    """Where the resident will be told, masked."""

    contacts: list[ShownContact]


class FailedDelivery(BaseModel):
    ticket: str
    channel: str
    shown: str
    error: str


def _shown(contacts: list[Contact]) -> Subscription:
    return Subscription(
        contacts=[ShownContact(channel=c.channel, shown=mask(c.address)) for c in contacts]
    )


@router.post("/tickets/{token}/contacts", operation_id="subscribe_ticket", tags=["resident"])
@in_thread
def subscribe_ticket(
    token: TokenParam, body: SubscribeRequest, hub: HubDep, request: Request
) -> Subscription:
    """Be told by text message, e-mail or push: near the front, when called, if the line pauses.

    Kept only with this ticket, and only until it ends; a second number or address
    on the same channel replaces the first.
    """
    hub.check_rate(request, "subscribe")
    if body.phone is not None:
        try:
            number = normalize_phone(body.phone, hub.config.notify.country_code)
        except ValueError as exc:
            error = {"loc": ("body", "phone"), "msg": str(exc), "type": "value_error"}
            raise RequestValidationError([error]) from None
        return _shown(hub.service.subscribe(token, "sms", number))
    if body.email is not None:
        return _shown(hub.service.subscribe(token, "email", body.email))
    assert body.push is not None
    push, keys = body.push, body.push.keys
    loopback = hub.config.notify.push.loopback_http
    try:
        address = normalize_push(push.endpoint, keys.p256dh, keys.auth, loopback_http=loopback)
    except ValueError as exc:
        where = ("body", "push", "keys" if "key" in str(exc) else "endpoint")
        error = {"loc": where, "msg": str(exc), "type": "value_error"}
        raise RequestValidationError([error]) from None
    return _shown(hub.service.subscribe(token, "push", address))


@router.delete("/tickets/{token}/contacts", operation_id="unsubscribe_ticket", tags=["resident"])
@in_thread
def unsubscribe_ticket(
    token: TokenParam,
    hub: HubDep,
    request: Request,
    channel: Annotated[Channel | None, Query()] = None,
) -> Subscription:
    """Forget the ticket's phone number, e-mail address or push subscription (`channel`),
    or all of them, and drop the messages not sent yet."""
    hub.check_rate(request, "subscribe")
    return _shown(hub.service.unsubscribe(token, channel))


class KioskContact(BaseModel):
    """A resident's phone number, typed on the kiosk's keypad for the ticket it just issued."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(pattern=TOKEN_PATTERN)]
    phone: Annotated[str, Field(min_length=1, max_length=40)]


class KioskSubscription(BaseModel):
    shown: str  # masked: "•••• 0147"


@router.post("/kiosk/contacts", operation_id="kiosk_subscribe", tags=["kiosk"])
@in_thread
def kiosk_subscribe(body: KioskContact, hub: HubDep, caller: Kiosk) -> KioskSubscription:
    """A kiosk leaves the phone number a resident typed for the ticket this kiosk issued,
    at most a few minutes ago (any other ticket is refused, 422 `not_issued_here` or
    `kiosk_too_late`). Text messages then reach them as if they had subscribed on their
    phone page."""
    shown = hub.service.subscribe_issued(body.token, body.phone, device=caller.device_id)
    return KioskSubscription(shown=shown)


class InboundSms(BaseModel):
    """A resident's text message, as the gateway forwards it."""

    model_config = ConfigDict(extra="ignore")  # gateways add fields of their own

    sender: Annotated[str, Field(alias="from", min_length=1, max_length=40)]
    text: Annotated[str, Field(max_length=1600)]
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")] | None = None

    _phone = field_validator("sender")(lambda value: normalize_phone(value))


class InboundAnswer(BaseModel):
    handled: Handled


def _gateway(request: Request, secret: str | None) -> None:
    """The gateway's shared secret, as `Authorization: Bearer` or `?secret=`."""
    expected = hub_of(request).config.notify.sms.inbound_secret
    if expected is None:
        raise NotFound("Replies by text message are not set up on this hub.")
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or secret
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        # Wrong secrets are limited per address; the gateway's own replies are not (they
        # all come from its one address, one per resident).
        hub_of(request).check_rate(request, "subscribe")
        raise AuthError("The gateway's secret is missing or wrong.", 401)


@router.post("/notify/sms/inbound", operation_id="sms_inbound", tags=["gateway"])
@in_thread
def sms_inbound(
    body: InboundSms,
    hub: HubDep,
    request: Request,
    secret: Annotated[str | None, Query(max_length=200)] = None,
) -> InboundAnswer:
    """A resident answered a text message: LEAVE leaves the line, STATUS sends their place
    (in any office language's word); anything else gets a short help. The answer goes
    out as a text message; a number that waits in no line gets none."""
    _gateway(request, secret)
    ref = body.id or uuid.uuid4().hex
    with hub.service.request("sms-gateway", body.id):
        handled = hub.service.text_reply(body.sender, body.text, ref)
    return InboundAnswer(handled=handled)


@router.get("/notify/failed", operation_id="failed_deliveries", tags=["staff"])
@in_thread
def failed_deliveries(hub: HubDep, caller: Staff) -> list[FailedDelivery]:
    """Today's messages to residents that could not be delivered (addresses masked)."""
    return [
        FailedDelivery(ticket=f.ticket, channel=f.channel, shown=f.shown, error=f.error)
        for f in hub.service.failed_deliveries()
    ]
