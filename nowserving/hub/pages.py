"""The residents' pages: the ticket page behind the QR code, and remote join.

Server-rendered so the first paint needs no script, then kept live by a small
script over Server-Sent Events. No cookies, no accounts, no personal data.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from nowserving.domain.errors import NotFound, OverBudget, Rejected
from nowserving.domain.notify import Channel, mask, normalize_email, normalize_phone
from nowserving.domain.views import pause_text
from nowserving.hub import push
from nowserving.hub.context import Hub, hub_of
from nowserving.hub.deferred import Router
from nowserving.hub.schemas import SHORT_CODE, TOKEN
from nowserving.service.interface import Expired
from nowserving.system import i18n
from nowserving.system.paths import resources_dir

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

router = Router(include_in_schema=False)
SERVICE_WORKER = resources_dir() / "web" / "static" / "sw.js"
FORM_LIMIT = 2000  # bytes of a contact form read: a number and an address fit many times
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token in the URL must not leak to other sites
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
}


@cache
def templates() -> Jinja2Templates:
    """The pages' templates, loaded with the first page: a restarted hub answers the
    devices' API sooner without Jinja."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=resources_dir() / "web" / "templates")


def _language(hub: Hub, requested: str | None, fallback: str | None = None) -> str:
    languages = hub.config.office.languages
    for candidate in (requested, fallback):
        if candidate in languages:
            return candidate
    return languages[0]


def _accepted(request: Request) -> str | None:
    """The phone's own language, from Accept-Language ("es-MX,es;q=0.9,en;q=0.8"), if the
    office offers one of them: for a page about a ticket the hub does not know yet."""
    hub = hub_of(request)
    ranked = []
    for n, part in enumerate(request.headers.get("accept-language", "").split(",")[:20]):
        tag, _, weight = part.strip().partition(";q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            continue
        ranked.append((-quality, n, tag.split("-")[0].lower()))
    return next((lang for *_, lang in sorted(ranked) if lang in hub.config.office.languages), None)


def _page(
    request: Request, template: str, hub: Hub, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    languages = hub.config.office.languages
    return templates().TemplateResponse(
        request,
        template,
        {
            "office": hub.config.office.name,
            "lang": lang,
            "dir": i18n.direction(lang),
            "t": lambda key, **values: i18n.text(lang, key, **values),
            "languages": [(code, i18n.language_name(code)) for code in languages],
            "catalogs": i18n.bundle(languages),
            "country": hub.config.notify.country_code,  # numbers typed without "+" (contact.js)
            **context,
        },
        status_code=status,
        headers=SECURITY_HEADERS,
    )


@router.get("/t/{token}", response_class=HTMLResponse)
def ticket_page(token: str, request: Request, lang: str | None = None) -> HTMLResponse:
    """The page a resident's phone opens from the QR code."""
    hub = hub_of(request)
    hub.check_rate(request, "read")
    return _ticket(request, hub, token, lang)


def _ticket(
    request: Request, hub: Hub, token: str, lang: str | None, contact_error: str = ""
) -> HTMLResponse:
    try:
        if not re.fullmatch(TOKEN, token):
            raise NotFound("not a ticket token")
        ticket = hub.resident_ticket(token)
    except Expired:
        chosen = _language(hub, lang, _accepted(request))
        return _page(request, "gone.html", hub, chosen, 410, message_key="phone.expired")
    except NotFound:
        chosen = _language(hub, lang, _accepted(request))
        if re.fullmatch(TOKEN, token):  # from a kiosk that is cut off: it will come
            return _page(request, "pending.html", hub, chosen, 404, token=token)
        return _page(request, "gone.html", hub, chosen, 404, message_key="phone.unknown")
    chosen = _language(hub, lang, ticket.lang)
    channels = hub.config.notify.channels & {"sms", "email"}  # push: the alert button asks
    vapid = hub.config.notify.push.vapid_private_key
    contacts = [c for c in hub.service.contacts(token) if c.channel in channels]
    return _page(
        request,
        "ticket.html",
        hub,
        chosen,
        422 if contact_error else 200,
        ticket=ticket.model_dump(),
        token=token,
        channels=channels,
        contacts=[mask(c.address) for c in contacts],
        contact_error=contact_error,
        push_key=push.public_key(vapid) if vapid else "",
    )


@router.get("/sw.js", response_model=None)
def service_worker() -> FileResponse:
    """The phone page's service worker, from the root: its scope is every ticket page."""
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return FileResponse(SERVICE_WORKER, media_type="text/javascript", headers=headers)


@router.post("/t/{token}/contacts", response_class=HTMLResponse, response_model=None)
async def contact_form(token: str, request: Request, lang: str | None = None) -> Response:
    """The ticket page's contact form without script: save a number or an address (or
    `stop`), then show the page again; a mistake is told on it in the resident's language."""
    hub = hub_of(request)
    hub.check_rate(request, "subscribe")
    body = await request.body()
    fields = parse_qs(body[:FORM_LIMIT].decode("utf-8", "replace"), max_num_fields=5)
    given = {name: values[0].strip() for name, values in fields.items() if values}
    chosen = _language(hub, lang)
    problem = await anyio.to_thread.run_sync(_save_contact, hub, token, given, chosen)
    if problem is None:
        return RedirectResponse(
            f"/t/{token}?lang={chosen}#contact", status_code=303, headers=SECURITY_HEADERS
        )
    return await anyio.to_thread.run_sync(_ticket, request, hub, token, lang, problem)


def _save_contact(hub: Hub, token: str, given: dict[str, str], lang: str) -> str | None:
    """Do what the form asks; None when done, else what went wrong, in `lang`."""
    if "stop" in given:  # what the form shows: a push subscription is the alert button's
        hub.service.unsubscribe(token, "sms")
        hub.service.unsubscribe(token, "email")
        return None
    phone, email = given.get("phone", ""), given.get("email", "")
    if not phone and not email:
        return i18n.text(lang, "contact.empty")
    checked: list[tuple[Channel, str]] = []
    try:
        country = hub.config.notify.country_code
        checked += [("sms", normalize_phone(phone, country))] if phone else []
    except ValueError:
        return i18n.text(lang, "contact.bad_phone")
    try:
        checked += [("email", normalize_email(email))] if email else []
    except ValueError:
        return i18n.text(lang, "contact.bad_email")
    try:
        for channel, address in checked:
            hub.service.subscribe(token, channel, address)
    except NotFound:
        return None  # the page itself says the ticket is gone
    except OverBudget as refused:
        return i18n.refusal(lang, refused.code)
    except Rejected:
        return i18n.text(lang, "contact.failed")
    return None


@router.get("/c/{code}", response_class=HTMLResponse, response_model=None)
def short_link(code: str, request: Request, lang: str | None = None) -> Response:
    """The short code printed under the QR code, for residents who type it in."""
    hub = hub_of(request)
    hub.check_rate(request, "read")
    try:
        if not re.fullmatch(SHORT_CODE, code):  # no search through the day for junk
            raise NotFound("not a short code")
        token = hub.service.token_for_code(code)
    except NotFound:
        chosen = _language(hub, lang, _accepted(request))
        return _page(request, "gone.html", hub, chosen, 404, message_key="phone.unknown")
    return RedirectResponse(f"/t/{token}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/join", response_class=HTMLResponse)
def join_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """Pick a line and get a ticket, from a lobby-door poster or the office's website."""
    hub = hub_of(request)
    hub.check_rate(request, "read")
    chosen = _language(hub, lang)
    views = {view.id: view for view in hub.service.lines()}
    lines = [
        {
            "id": line.id,
            "name": hub.config.text(line.name, chosen),
            "description": hub.config.text(line.description, chosen),
            "waiting": views[line.id].waiting,
            "wait": i18n.wait_text(chosen, views[line.id].wait),
            "closed": i18n.hours_text(chosen, views[line.id].hours, hub.config.zone, remote=True),
            "paused": (
                pause_text(hub.config, views[line.id], chosen) if views[line.id].paused else ""
            ),
        }
        for line in hub.config.lines
        if line.remote_join
    ]
    channels = hub.config.notify.channels
    return _page(request, "join.html", hub, chosen, lines=lines, channels=channels)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, lang: str | None = None) -> HTMLResponse:
    hub = hub_of(request)
    booking = bool(hub.config.booking.lines and hub.config.calendar)
    return _page(request, "home.html", hub, _language(hub, lang), booking=booking)
