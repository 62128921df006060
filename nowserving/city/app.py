"""The city service: a public page and API of every office's waits, and a staff dashboard.

Read-only over the city database (offices stream into it: hub/city_stream.py). The
public side holds nothing personal (the stream never carries it). The dashboard is
behind the city admin token (`--admin-token-file`): a program sends it as
`Authorization: Bearer …`; a browser signs in once with it and keeps a cookie derived
from it (HttpOnly, SameSite=Strict), never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from nowserving import __version__
from nowserving.domain.errors import StoreError
from nowserving.store.city_views import CityReader
from nowserving.system.paths import resources_dir

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

CACHE_S = 5.0  # lobby displays and the city's website all ask: the database answers once
REFRESH_S = 30  # the pages reload themselves this often
COOKIE = "city_dashboard"
SESSION_S = 12 * 3600  # a signed-in browser's dashboard cookie lasts a shift
MAX_FORM_BYTES = 4096
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
}
Status = Literal["open", "paused", "closed"]


class LineNow(BaseModel):
    id: str
    name: str
    status: Status
    waiting: int
    wait_low: int | None  # minutes; None while no counter serves it
    wait_high: int | None


class OfficeNow(BaseModel):
    office: str
    office_name: str
    status: Status
    waiting: int
    lines: list[LineNow]


class ServiceNow(BaseModel):
    """A service (line id) and where its wait is shortest now (office None: nowhere open)."""

    id: str
    name: str
    office: str | None
    office_name: str | None
    waiting: int | None
    wait_low: int | None
    wait_high: int | None


class CityWaits(BaseModel):
    offices: list[OfficeNow]
    services: list[ServiceNow]


@cache
def templates() -> Jinja2Templates:
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=resources_dir() / "web" / "templates")


class _Cached:
    """One answer kept for CACHE_S, computed by one caller at a time."""

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._at = 0.0

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > CACHE_S:
                self._value = self._compute()
                self._at = time.monotonic()
            return self._value


def session_value(token: str, expires: int) -> str:
    """The dashboard cookie for `token`, good until `expires` (Unix seconds): proves the
    token was given, cannot be turned back, and a copy of it ends with the shift (one
    without an end would sign its holder in until the token changes)."""
    signed = f"nowserving city dashboard until {expires}".encode()
    return f"{expires}.{hmac.new(token.encode(), signed, hashlib.sha256).hexdigest()}"


def session_valid(token: str, cookie: str, now: float) -> bool:
    """Whether `cookie` is a dashboard cookie for `token` that has not expired at `now`."""
    expires, _, _ = cookie.partition(".")
    if not expires.isdigit() or len(expires) > 12 or int(expires) <= now:
        return False
    return hmac.compare_digest(cookie.encode(), session_value(token, int(expires)).encode())


def create_app(reader: CityReader, *, admin_token: str | None, city: str = "City") -> FastAPI:
    """The city service over `reader`; no dashboard without `admin_token`."""
    waits = _Cached(reader.waits)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        reader.open()
        yield
        await anyio.to_thread.run_sync(reader.close)

    app = FastAPI(
        title=f"Nowserving city — {city}",
        version=__version__,
        description="Every office's waits now, for the city's website and lobby displays.",
        lifespan=lifespan,
    )

    def signed_in(request: Request) -> bool:
        if admin_token is None:
            return False
        bearer = request.headers.get("authorization", "")
        if bearer.startswith("Bearer ") and hmac.compare_digest(
            bearer[7:].encode(), admin_token.encode()
        ):
            return True
        return session_valid(admin_token, request.cookies.get(COOKIE, ""), time.time())

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context = {"city": city, "refresh": REFRESH_S, **context}
        response = templates().TemplateResponse(request, name, context, status_code=status)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/api/city/waits", operation_id="city_waits", response_model=CityWaits)
    async def city_waits() -> dict[str, Any]:
        """Every office and service: people waiting, the wait range now, open/paused/closed,
        and for each service the office where the wait is shortest right now."""
        return await anyio.to_thread.run_sync(waits.get)

    @app.get("/api/city/dashboard", operation_id="city_dashboard")
    async def city_dashboard(request: Request) -> dict[str, Any]:
        """Staff only (Bearer admin token): load per hour, counters open, service levels."""
        if not signed_in(request):
            return _problem(401, "The city admin token is required.")  # type: ignore[return-value]
        return await anyio.to_thread.run_sync(reader.dashboard)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def public_page(request: Request) -> Response:
        try:
            data = await anyio.to_thread.run_sync(waits.get)
        except StoreError as exc:
            return page(request, "city.html", 503, offices=[], services=[], error=str(exc))
        return page(request, "city.html", **data)

    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard(request: Request) -> Response:
        if not signed_in(request):
            return page(request, "city_login.html", 401, enabled=admin_token is not None)
        try:
            data = await anyio.to_thread.run_sync(reader.dashboard)
        except StoreError as exc:
            return page(request, "city_login.html", 503, enabled=True, error=str(exc))
        load: dict[str, list[dict[str, Any]]] = {}
        for row in data["load"]:
            load.setdefault(row["office"], []).append(row)
        return page(
            request,
            "city_dashboard.html",
            offices=data["offices"],
            load=load,
            peak=max((row["issued"] for row in data["load"]), default=1),
            counters={row["office"]: row["open"] for row in data["counters"]},
            levels=data["service_levels"],
            names={o["office"]: o["office_name"] for o in data["offices"]},
        )

    @app.post("/dashboard/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        body = await request.body()
        given = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")).get("token", [""])[0]
        if admin_token is None or not hmac.compare_digest(given.encode(), admin_token.encode()):
            return page(
                request,
                "city_login.html",
                401,
                enabled=admin_token is not None,
                error="That is not the city admin token.",
            )
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(
            COOKIE,
            session_value(admin_token, int(time.time()) + SESSION_S),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",  # behind the city's HTTPS proxy
            max_age=SESSION_S,
        )
        return response

    @app.post("/dashboard/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/dashboard", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def unreachable(request: Request, exc: Exception) -> JSONResponse:
        return _problem(503, str(exc), headers={"Retry-After": "30"})

    app.add_exception_handler(StoreError, unreachable)
    app.mount("/static", StaticFiles(directory=resources_dir() / "web" / "static"), "static")
    return app


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": _TITLES[status], "status": status, "detail": detail}
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


_TITLES = {401: "Unauthorized", 503: "Service Unavailable"}
