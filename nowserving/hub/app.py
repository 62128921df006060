"""The hub's web application: API, live streams, residents' pages, error handling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nowserving import __version__
from nowserving.errors import NotFound, Rejected, StoreError, StoreFullError
from nowserving.hub import api, pages, sync_api
from nowserving.hub.auth import AuthError
from nowserving.hub.context import Hub, RateLimited
from nowserving.hub.sync_api import OutdatedDevice
from nowserving.paths import resources_dir
from nowserving.privacy import purge
from nowserving.service import Expired, LocalService

log = logging.getLogger("nowserving.hub")
MAX_BODY_BYTES = 64 * 1024
SYNC_BODY_BYTES = 4 * 1024 * 1024  # a replica's batch of events after an outage


def create_app(service: LocalService) -> FastAPI:
    """The hub over `service` (a LocalService on the hub's own store)."""
    hub = Hub(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(hub.live.run()), asyncio.create_task(_purge_daily(service))]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title=f"Nowserving hub — {service.config.office.name}",
        version=__version__,
        description="Line management for public offices: the API for kiosks, displays, "
        "desks, residents' phones and integrators.",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.include_router(api.router)
    app.include_router(sync_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=resources_dir() / "web" / "static"), "static")
    _add_error_handlers(app)
    app.add_middleware(BodyLimit)
    _document_ids(app, service)
    return app


def _document_ids(app: FastAPI, service: LocalService) -> None:
    """Show this office's real line and counter ids as examples in the OpenAPI document."""
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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _purge_daily(service: LocalService) -> None:
    """Retention, enforced by the hub itself: at start, then once a day."""
    while True:
        today = date.fromisoformat(service.today())
        try:
            count = await anyio.to_thread.run_sync(purge, service.store, service.config, today)
            log.info("retention: personal data removed from %d old events", count)
            # Request ids answer retries within the day; two days is plenty.
            before = (today - timedelta(days=2)).isoformat()
            await anyio.to_thread.run_sync(service.store.forget_requests, before)
        except StoreError as exc:
            log.error("retention purge failed: %s", exc)
        await asyncio.sleep(24 * 3600)


def _problem(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _add_error_handlers(app: FastAPI) -> None:
    statuses: list[tuple[type[Exception], int]] = [
        (Expired, 410),
        (NotFound, 404),
        (OutdatedDevice, 426),
        (Rejected, 409),
        (RateLimited, 429),
        (StoreFullError, 507),
        (StoreError, 503),
    ]
    for error_type, status in statuses:
        app.add_exception_handler(error_type, _handler(status))

    async def auth(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return _problem(exc.status, str(exc), **headers)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            {"error": describe_validation(exc.errors()), "detail": _plain(exc.errors())},
            status_code=400 if _is_json_error(exc.errors()) else 422,
        )

    app.add_exception_handler(AuthError, auth)
    app.add_exception_handler(RequestValidationError, invalid)


def _handler(status: int) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return _problem(status, str(exc))

    return handle


def describe_validation(errors: Any) -> str:
    """One readable sentence per problem: 'body.line: Field required'."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            parts.append("The request body is not valid JSON.")
            continue
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _is_json_error(errors: Any) -> bool:
    return any(error.get("type") == "json_invalid" for error in errors)


def _plain(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES (413), declared or streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        limit = SYNC_BODY_BYTES if scope.get("path") == "/api/sync/push" else MAX_BODY_BYTES
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_too_large(send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting, send)
        except _TooLarge:
            await _send_too_large(send)


class _TooLarge(Exception):
    pass


async def _send_too_large(send: Send) -> None:
    body = b'{"error":"The request body is too large (at most 64 KiB)."}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
