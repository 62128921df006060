"""The hub's listeners answer from the first moment; the application joins when it is built.

Importing FastAPI and building the routes takes about a second of CPU, and restoring a big
day a few tenths more. `Starting` is what uvicorn serves meanwhile: `GET /api/health`
answers at once, saying that the hub is not ready yet; every other request waits for the
application (at most `WAIT_S`, then a 503 that says to retry), then is served by it. The
application's lifespan (its background tasks, the snapshot at the end) runs once it exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("nowserving.hub")
WAIT_S = 30.0  # a request that came before the application waits this long at most
HEALTH = "/api/health"
# The application, its residents-only view, and its lifespan (see hub.run._build).
Built = tuple[ASGIApp, ASGIApp, Callable[[], AbstractAsyncContextManager[Any]]]


class Starting:
    """Both listeners' ASGI apps (`staff`, `public`) while `build` runs in a worker thread.

    Args:
        build: makes the application (imports, the service with the day restored).
        office: the office's name, for the health check meanwhile.
    """

    def __init__(self, build: Callable[[], Built], office: str) -> None:
        self._build = build
        self._office = office
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._built: Built | None = None
        self.failed: BaseException | None = None  # the build's error: the hub stops
        self.stop: Callable[[], None] = lambda: None  # set by whoever runs the servers

    async def staff(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The staff listener: also the one whose lifespan starts the build."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._serve(False, scope, receive, send)

    async def public(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":  # the staff listener's lifespan runs the tasks
            await self._serve(True, scope, receive, send)

    async def _serve(self, public: bool, scope: Scope, receive: Receive, send: Send) -> None:
        if self._built is None:
            if scope["type"] == "http" and scope["path"] == HEALTH:
                await _json(send, 200, {"ok": True, "office": self._office, "ready": False})
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), WAIT_S)
        if self._built is None:  # still building, or stopping
            if scope["type"] == "http":
                await _json(send, 503, _STARTING, {"retry-after": "5"})
            return
        app = self._built[1] if public else self._built[0]
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup: listen at once, build meanwhile
        await send({"type": "lifespan.startup.complete"})
        running = asyncio.create_task(self._run())
        await receive()  # lifespan.shutdown
        self._stopping.set()
        if self._built is None:
            running.cancel()  # the thread finishes its build; nothing uses it
        await asyncio.gather(running, return_exceptions=True)
        self._ready.set()  # nothing waits for a build that will not come
        await send({"type": "lifespan.shutdown.complete"})

    async def _run(self) -> None:
        """Build the application, then run its lifespan until the hub stops."""
        try:
            built = await asyncio.to_thread(self._build)
            async with built[2]():
                self._built = built
                self._ready.set()
                log.info("the hub is ready")
                await self._stopping.wait()  # its tasks stop, its snapshot is kept
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # the hub cannot serve: it stops and says why
            self.failed = exc
            self.stop()


_STARTING = {
    "title": "Service Unavailable",
    "status": 503,
    "detail": "The hub is starting; retry in a few seconds.",
}


async def _json(send: Send, status: int, body: dict[str, Any], headers: Any = None) -> None:
    data = json.dumps(body).encode()
    kind = "application/json" if status < 400 else "application/problem+json"
    fields = [(b"content-type", kind.encode()), (b"content-length", str(len(data)).encode())]
    fields += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": data})
