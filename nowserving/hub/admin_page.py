"""The office's admin page on the hub: lines, devices and staff, for staff with `admin`.

Server-rendered forms, no script. Sign-in is by staff id and PIN (wrong PINs lock the
address out, as at a desk); the session lives in a cookie sent back to this page only
(`SameSite=Strict`, `HttpOnly`), and a form from another site is refused by its
`Origin`. Every change goes through `office_admin`, so it is checked as `check-config`
checks a file and written to the audit log with who made it.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, get_args, get_origin
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from nowserving.domain.errors import NotFound, NowservingError
from nowserving.domain.pairing import ROLES, check_device_id
from nowserving.hub import office_admin
from nowserving.hub.auth import AuthError, Caller, require
from nowserving.hub.context import PLAIN_HTTP, Hub, hub_of
from nowserving.hub.deferred import Router
from nowserving.hub.devices_api import office_ca
from nowserving.hub.pages import SECURITY_HEADERS, templates
from nowserving.system import i18n

router = Router(prefix="/admin", include_in_schema=False)
COOKIE = "nowserving_admin"
MAX_FORM_BYTES = 16 * 1024


@router.get("", response_class=HTMLResponse)
def admin_home(request: Request) -> HTMLResponse:
    hub = hub_of(request)
    caller = _signed_in(hub, request)
    if caller is None:
        return _login(request, hub)
    return _admin(request, hub, caller)


# The handlers read their form on the event loop, then check PINs and change the office
# in a worker thread: scrypt and the store must not hold up both listeners meanwhile.


@router.post("/login", response_class=HTMLResponse, response_model=None)
async def admin_login(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_sign_in, request, form)


def _sign_in(request: Request, form: Form) -> Response:
    hub = hub_of(request)
    try:
        session = hub.access.sign_in_admin(
            form.get("staff", "").strip(), form.get("pin", ""), hub.client(request)
        )
    except AuthError as refused:
        return _login(request, hub, str(refused), status=refused.status)
    answer = RedirectResponse("/admin", status_code=303, headers=SECURITY_HEADERS)
    answer.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or hub.config.hub.behind_tls_proxy,
        path="/admin",
    )
    return answer


@router.post("/logout", response_model=None)
async def admin_logout(request: Request) -> Response:
    await _form(request)  # the same-origin check
    token = request.cookies.get(COOKIE)
    if token:
        await run_in_threadpool(hub_of(request).access.sign_out, token)
    answer = RedirectResponse("/admin", status_code=303, headers=SECURITY_HEADERS)
    answer.delete_cookie(COOKIE, path="/admin")
    return answer


@router.post("/{action}", response_class=HTMLResponse)
async def admin_action(action: str, request: Request) -> HTMLResponse:
    """One change from a form of the page, then the page again saying what happened."""
    form = await _form(request)
    return await run_in_threadpool(_change, request, action, form)


def _change(request: Request, action: str, form: Form) -> HTMLResponse:
    hub = hub_of(request)
    caller = _signed_in(hub, request)
    if caller is None:
        return _login(request, hub, "Sign in again: your session has ended.", status=401)
    act = _ACTIONS.get(action)
    if act is None:
        return _admin(request, hub, caller, error="There is no such change.", status=404)
    try:
        done = act(hub, form, caller.staff_id or "")
    except (NowservingError, ValueError) as exc:
        return _admin(request, hub, caller, error=str(exc), status=_status(exc))
    return _admin(request, hub, caller, **done)


# -- the changes ---------------------------------------------------------------------------


def _save_line(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    line = form.get("line", "").strip()
    languages = hub.config.office.languages
    office_admin.save_line(
        hub,
        line,
        {lang: form.get(f"name_{lang}", "") for lang in languages},
        descriptions={lang: form.get(f"description_{lang}", "") for lang in languages},
        prefix=form.get("prefix", "").strip().upper(),
        by=by,
    )
    return {"message": f"Line {line} saved; every screen shows it within seconds."}


def _remove_line(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    line = form.get("line", "")
    if office_admin.remove_line(hub, line, by=by):
        return {"message": f"Line {line} removed."}
    return {
        "message": f"Line {line} takes no new tickets from now on; the residents already "
        "waiting in it are still called, and it leaves the office tomorrow."
    }


def _counter(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    counter = form.get("counter", "").strip()
    names = {lang: form.get(f"name_{lang}", "") for lang in hub.config.office.languages}
    office_admin.save_counter(hub, counter, names, form.all("lines"), by=by)
    return {"message": f"Counter {counter} saved; desks and the display show it within seconds."}


def _languages(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    office_admin.set_languages(hub, form.all("languages"), form.get("default", ""), by=by)
    return {"message": "Languages saved; kiosks offer them within seconds."}


def _settings(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    section = form.get("section", "")
    if section not in office_admin.SETTINGS:
        raise NotFound(f"There are no {section!r} settings.")
    values: dict[str, Any] = {}
    for field in _setting_fields(hub, section):
        key = field["key"]
        if field["kind"] == "bool":
            values[key] = key in form
        elif field["kind"] == "multi":
            values[key] = form.all(key)
        elif field["kind"] == "choice":  # back to the choice's own type (paper_mm: 58, 80)
            given = form.get(key, "")
            values[key] = next((c for c in field["raw"] if str(c) == given), given)
        else:
            given = form.get(key, "").strip()
            values[key] = None if given == "" and field["optional"] else given
    office_admin.save_settings(hub, section, values, by=by)
    return {"message": f"The {section} settings are saved; devices take them up within seconds."}


def _pair(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    from nowserving.system.certs import fingerprint  # here: cryptography, 0.1 s of the start

    role = form.get("role", "")
    if role not in ROLES:
        raise ValueError("Pick what the new PC is: kiosk, display or desk.")
    device = form.get("device", "").strip() or None
    pairing = office_admin.make_pairing(
        hub, role, check_device_id(device) if device else None, by=by
    )
    return {
        "pairing": {
            "code": pairing.code,
            "device": pairing.device,
            "role": pairing.role,
            "until": datetime.fromtimestamp(pairing.expires_at / 1000).strftime("%H:%M"),
            "qr": _qr_data_uri(pairing.code),
            "ca": fingerprint(ca.encode()) if (ca := office_ca(hub)) else "",
        }
    }


def _revoke(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    device = form.get("device", "")
    office_admin.revoke(hub, device, by=by)
    return {"message": f"{device} is revoked: its next request is refused."}


def _add_staff(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    staff, name = form.get("staff", "").strip(), form.get("name", "").strip()
    pin = office_admin.add_staff(
        hub,
        staff,
        name,
        line_control="line_control" in form,
        admin="admin" in form,
        by=by,
    )
    return {"pin": {"staff": staff, "pin": pin}, "message": f"{name} ({staff}) added."}


def _reset_pin(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    staff = form.get("staff", "")
    pin = office_admin.reset_pin(hub, staff, by=by)
    return {"pin": {"staff": staff, "pin": pin}, "message": f"New PIN for {staff}."}


def _disable(hub: Hub, form: Form, by: str) -> dict[str, Any]:
    staff, disabled = form.get("staff", ""), form.get("disabled") == "true"
    office_admin.set_disabled(hub, staff, disabled, by=by)
    return {"message": f"{staff} {'may no longer' if disabled else 'may again'} sign in."}


_ACTIONS: dict[str, Callable[[Hub, Form, str], dict[str, Any]]] = {
    "save-line": _save_line,
    "remove-line": _remove_line,
    "save-counter": _counter,
    "languages": _languages,
    "settings": _settings,
    "pair": _pair,
    "revoke": _revoke,
    "add-staff": _add_staff,
    "reset-pin": _reset_pin,
    "disable-staff": _disable,
}


# -- helpers -------------------------------------------------------------------------------


def _signed_in(hub: Hub, request: Request) -> Caller | None:
    try:
        return require(hub.access.identify(request.cookies.get(COOKIE)), "admin")
    except AuthError:
        return None


class Form(dict[str, str]):
    """A posted form: the last value of each field, and `all(key)` for repeated ones."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs

    def all(self, key: str) -> list[str]:
        return [value for name, value in self.pairs if name == key]


async def _form(request: Request) -> Form:
    """The posted form (small, urlencoded), refused if it comes from another site."""
    # Browsers say where a form comes from; with no-referrer pages the Origin is "null".
    site = request.headers.get("sec-fetch-site", "same-origin")
    origin = request.headers.get("origin", "null")
    if site not in ("same-origin", "none") or (
        origin != "null" and urlsplit(origin).netloc != request.headers.get("host")
    ):
        raise AuthError("This form was sent from another site.", 403)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise AuthError("This form is too large.", 413)
    return Form(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _setting_fields(hub: Hub, section: str) -> list[dict[str, Any]]:
    """The `[section]` settings as form fields: what kind of input each takes, and its value."""
    current = getattr(hub.config, section)
    fields = []
    for key, info in type(current).model_fields.items():
        kind, raw = "text", tuple[Any, ...]()
        if info.annotation is bool:
            kind = "bool"
        elif get_origin(info.annotation) is Literal:
            kind, raw = "choice", get_args(info.annotation)
        elif get_origin(info.annotation) is list:  # display.announce_in: office languages
            kind, raw = "multi", tuple(hub.config.office.languages)
        value = getattr(current, key)
        fields.append(
            {
                "key": key,
                "kind": kind,
                "raw": raw,
                "choices": [str(choice) for choice in raw],
                "value": value
                if kind in ("bool", "multi")
                else ("" if value is None else str(value)),
                "optional": info.default is None,
            }
        )
    return fields


def _status(exc: Exception) -> int:
    if isinstance(exc, office_admin.InvalidOffice | ValueError):
        return 422
    return 404 if isinstance(exc, NotFound) else 409


def _qr_data_uri(text: str) -> str:
    # Imported here: qrcode (and PIL, which it brings) cost the hub's start 0.2-0.6 s.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _login(request: Request, hub: Hub, error: str = "", status: int = 200) -> HTMLResponse:
    return templates().TemplateResponse(
        request,
        "admin_login.html",
        {"office": hub.config.office.name, "error": error},
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def _admin(
    request: Request, hub: Hub, caller: Caller, status: int = 200, **context: Any
) -> HTMLResponse:
    config = hub.config
    now = time.monotonic()
    alerts: dict[str, list[str]] = {}
    for alert in hub.service.board().alerts:
        alerts.setdefault(alert.device, []).append(alert.message)
    devices = []
    for record in hub.registry.devices():
        seen = hub.devices.get(record.id, {}).get("last_seen")
        devices.append(
            {
                "id": record.id,
                "role": record.role,
                "paired": datetime.fromtimestamp(record.paired_at / 1000).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "seen": "never" if seen is None else f"{now - seen:.0f} s ago",
                "revoked": record.revoked_at is not None,
                "alerts": alerts.get(record.id, []),
            }
        )
    return templates().TemplateResponse(
        request,
        "admin.html",
        {
            "office": config.office.name,
            "me": caller.session.staff.name if caller.session else "",
            "languages": config.office.languages,
            "shipped": [(lang, i18n.language_name(lang)) for lang in i18n.shipped()],
            "settings": {name: _setting_fields(hub, name) for name in office_admin.SETTINGS},
            "lines": config.lines,
            "counters": config.counters,
            "staff": config.staff,
            "devices": devices,
            "roles": ROLES,
            "plain_http": "" if config.hub.tls else PLAIN_HTTP,  # said where IT looks
            # Devices pair on this listener (devices and staff), not the residents' one.
            "here": str(request.base_url).rstrip("/"),
            **context,
        },
        status_code=status,
        headers=SECURITY_HEADERS,
    )
