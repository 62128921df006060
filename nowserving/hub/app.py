"""The hub's web application: API, live streams, residents' pages, error handling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nowserving import __version__
from nowserving.hub import admin_page, api, booking_api, devices_api, notify_api, pages, sync_api
from nowserving.hub.auth import AuthError
from nowserving.hub.city_stream import CityStream
from nowserving.hub.context import PLAIN_HTTP, Hub, RateLimited
from nowserving.hub.deferred import Declared
from nowserving.hub.guard import StreamCount
from nowserving.hub.notify_worker import deliver
from nowserving.hub.office_admin import InvalidOffice
from nowserving.hub.problems import (
    CRASHED,
    MAX_BODY_BYTES,
    STATUSES,
    SYNC_BODY_BYTES,
    declared_too_large,
    describe,
    document_problems,
    field_errors,
    problem,
    refusal,
    retry_after,
)
from nowserving.hub.service_levels import watch_service_levels
from nowserving.hub.sync_api import OutdatedDevice
from nowserving.hub.tasks import Supervisor, drop_retired_daily, purge_nightly
from nowserving.service.local import LocalService
from nowserving.system.paths import resources_dir

log = logging.getLogger("nowserving.hub")
# The API operations residents' pages use, and the SMS gateway's (residents' replies).
PUBLIC_TAGS = {"public", "resident", "gateway"}
# Every router of the hub's application, in the order their routes are matched.
ROUTERS = (
    api.router,
    sync_api.router,
    devices_api.router,
    notify_api.router,
    pages.router,
    booking_api.router,
    booking_api.pages,
    admin_page.router,
)
# The operations a restart's first requests need (a kiosk's issue, the board, a resident's
# ticket, the devices' sync): a restarted hub serves them before it builds the others.
FIRST = frozenset(
    {
        "health",
        "issue_ticket",
        "get_board",
        "follow_board",
        "ticket_status",
        "follow_ticket",
        "sync_push",
        "sync_pull",
        "lease_numbers",
    }
)


def create_app(
    service: LocalService, first: Collection[str] | None = None, hub: Hub | None = None
) -> FastAPI:
    """The hub over `service` (a LocalService on the hub's own store).

    Args:
        first: build only these operations' routes (`FIRST`); `the_rest` builds the others.
        hub: the shared parts over `service`, if something made them already.
    """
    hub = hub or Hub(service)
    supervisor = Supervisor(service)  # every background task: restarted, and alerts the desk

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [
            supervisor.start("live", hub.live.run),
            supervisor.start("retention", lambda: purge_nightly(service, supervisor)),
            supervisor.start("notify", lambda: deliver(service, supervisor)),
            supervisor.start("retired-lines", lambda: drop_retired_daily(hub, supervisor)),
            supervisor.start("service_levels", lambda: watch_service_levels(service, supervisor)),
        ]
        if service.config.city.database is not None:  # the office streams into the city's
            tasks.append(supervisor.start("city", CityStream(service).run))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # The next start restores this instead of replaying the whole day.
        await anyio.to_thread.run_sync(service.save_snapshot)

    description = (
        "Line management for public offices: the API for kiosks, displays, "
        "desks, residents' phones and integrators."
    )
    if not service.config.hub.tls:  # this page is where staff look at the hub
        description = f"**Warning: {PLAIN_HTTP}.**\n\n{description}"
    app = FastAPI(
        title=f"Nowserving hub — {service.config.office.name}",
        version=__version__,
        description=description,
        lifespan=lifespan,
    )
    app.state.hub = hub
    # The routes as their router built them (prefix, tags, dependencies, answers), not
    # `include_router`: FastAPI 0.165 builds an included router's routes a second time
    # (their validators: 0.1-0.2 s of CPU of every restart).
    ours = _built(lambda route: first is None or route.operation_id in first)
    app.state.ours = slice(len(app.routes), len(app.routes) + len(ours))  # for `the_rest`
    app.router.routes.extend(ours)
    app.mount("/static", StaticFiles(directory=resources_dir() / "web" / "static"), "static")
    _add_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(StreamCount, trusted=service.config.hub.trusted_proxies, open=hub.streams)
    app.add_middleware(CrashGuard)  # outermost of ours: it also covers BodyLimit
    _document_ids(app, service)
    return app


def _built(wanted: Callable[[Declared], bool]) -> list[BaseRoute]:
    """Every router's routes, in their order, once the `wanted` ones are built."""
    for router in ROUTERS:
        router.build(wanted)
    return [route for router in ROUTERS for route in router.routes]


def unbuilt() -> list[Declared]:
    """The routes `create_app(first=...)` left out."""
    return [d for router in ROUTERS for d in router.declared if d.route is None]


def the_rest(app: FastAPI, public: PublicOnly) -> Callable[[], None]:
    """Build the routes `create_app(first=...)` left out (in the build's thread); returns what
    puts them in the application, in their places (on the event loop, between requests)."""
    ours = _built(lambda _: True)

    def place() -> None:
        app.router.routes[app.state.ours] = ours
        app.state.ours = slice(app.state.ours.start, app.state.ours.start + len(ours))
        public.routes = _public_routes(app)

    return place


def _document_ids(app: FastAPI, service: LocalService) -> None:
    """The OpenAPI document: this office's real line and counter ids as examples, and
    error answers as problem documents."""
    examples = {
        "line": [line.id for line in service.config.lines],
        "counter": [counter.id for counter in service.config.counters],
    }
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for parameter in operation.get("parameters", []):
                        if parameter.get("name") in examples:
                            ids = examples[parameter["name"]]
                            parameter["schema"]["examples"] = ids
                            parameter["example"] = ids[0]
            document_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _add_error_handlers(app: FastAPI) -> None:
    statuses = {**STATUSES, OutdatedDevice: 426, InvalidOffice: 422}
    for error_type, status in statuses.items():
        app.add_exception_handler(error_type, _handler(status))

    async def rate_limited(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimited)
        return problem(429, str(exc), headers=retry_after(exc.retry_after))

    async def auth(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.status == 429:
            headers.update(retry_after(exc.retry_after))
        return problem(exc.status, str(exc), headers=headers, code=exc.code)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc.errors())
        status = 400 if any(e.get("type") == "json_invalid" for e in exc.errors()) else 422
        return problem(status, describe(errors), errors=errors)

    async def framework(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        detail = str(exc.detail)
        if detail == HTTPStatus(exc.status_code).phrase:  # the framework's bare phrase
            detail = _SENTENCES.get(exc.status_code, detail).format(method=request.method)
        return problem(exc.status_code, detail, headers=exc.headers)

    app.add_exception_handler(RateLimited, rate_limited)
    app.add_exception_handler(AuthError, auth)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, framework)


_SENTENCES = {
    404: "There is nothing at this address.",
    405: "This address does not take {method} requests.",
}


def _handler(status: int) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return refusal(exc, status)

    return handle


class _HttpMiddleware:
    """An ASGI middleware that acts on HTTP requests and passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class CrashGuard(_HttpMiddleware):
    """A bug answers 500 with a plain sentence and nothing internal; the log gets the rest."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for an error answer: the connection is dropped
                raise
            await problem(500, CRASHED)(scope, receive, send)


class BodyLimit(_HttpMiddleware):
    """Refuse request bodies over MAX_BODY_BYTES (413), declared or streamed."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # "/api/sync/push/" is redirected to the push: its limit, and its limit in the message.
        path = str(scope.get("path", "")).rstrip("/")
        limit = SYNC_BODY_BYTES if path == "/api/sync/push" else MAX_BODY_BYTES
        if declared_too_large(scope, limit):
            await problem(413, _TooLarge(limit).detail)(scope, receive, send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge(limit)
            return message

        await self.app(scope, counting, send)


class _TooLarge(HTTPException):
    """A body over the limit; an HTTPException so that FastAPI passes it on as it is."""

    def __init__(self, limit: int) -> None:
        size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
        super().__init__(413, f"The request body is too large (at most {size}).")


def public_only(app: FastAPI) -> PublicOnly:
    """`app` as the residents' listener serves it: their pages, their API operations and
    static files; any other address is a plain 404, as if it did not exist."""
    return PublicOnly(app, _public_routes(app))


def _public_routes(app: FastAPI) -> list[BaseRoute]:
    public_api = [*api.router.routes, *notify_api.router.routes, *booking_api.router.routes]
    return [
        *pages.router.routes,
        *booking_api.pages.routes,
        *(r for r in public_api if isinstance(r, APIRoute) and PUBLIC_TAGS & set(r.tags)),
        *(r for r in app.routes if isinstance(r, Mount) and r.path == "/static"),
    ]


def _own_secret(route: BaseRoute) -> bool:
    """The SMS gateway's route: its shared secret comes as `Authorization: Bearer`."""
    return isinstance(route, APIRoute) and "gateway" in route.tags


class PublicOnly(_HttpMiddleware):
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        super().__init__(app)
        self.routes = routes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # PARTIAL: the address is public but not the method; the app answers 405.
        if any(route.matches(scope)[0] is not Match.NONE for route in self.routes):
            # No device or staff credential counts here: sent from the guest network it
            # acts as nobody (a kiosk checks a code in on the devices' side).
            gateway = (r for r in self.routes if _own_secret(r))
            if not any(route.matches(scope)[0] is Match.FULL for route in gateway):
                headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
                scope = {**scope, "headers": headers}
            await self.app(scope, receive, send)
        else:
            await problem(404, _SENTENCES[404])(scope, receive, send)
