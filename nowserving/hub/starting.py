"""The hub's listeners answer from the first moment; the application joins when it is built.

Importing FastAPI and building the routes takes about a second of CPU, and restoring a big
day a few tenths more. `Starting` is what uvicorn serves meanwhile: `GET /api/health`
answers at once, saying that the hub is not ready yet; every other request waits for the
application (at most `WAIT_S`, then a 503 that says to retry), then is served by it. The
application's lifespan (its background tasks, the snapshot at the end) runs once it exists.

The application may come in two parts: the routes a restart's first requests need, then
the rest (`Built.rest`, built in the same worker thread right after). Meanwhile it serves
what `Built.early` says it routes as the whole one will; any other request waits for the
rest as it waited for the application.

Before any of it, the build may `offer` an app for some requests (a kiosk's issue, see
hub.fast_issue): it serves them from then on, until the application is there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nowserving.system import startup

log = logging.getLogger("nowserving.hub")
WAIT_S = 30.0  # a request that came before the application waits this long at most
# The rest of a two-phase application is built once the first requests leave the hub this
# long (each answered or streaming), or one waits for the rest, or after LULL_MAX_S: it
# holds the GIL as they do, and would slow them by half.
LULL_S = 0.1
LULL_MAX_S = 2.0
OFFERED_FIRST_MAX_S = 0.25  # the build waits this long at most for offered requests' answers
HEALTH = "/api/health"


class Built(NamedTuple):
    """The application, its residents-only view and its lifespan (see hub.run._build)."""

    app: ASGIApp
    public: ASGIApp
    lifespan: Callable[[], AbstractAsyncContextManager[Any]]
    # Built in part: which requests it serves as it is (not called once `rest` is done),
    # and what builds the rest (in the worker thread), returning what puts it in place
    # (called on the event loop).
    early: Callable[[Scope], bool] = lambda scope: False
    rest: Callable[[], Callable[[], None]] | None = None


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
        self._whole = asyncio.Event()  # the rest is built too (or the hub stops)
        self._rest_built = False
        self._busy = 0  # requests answered meanwhile by the first part, not answered yet
        self._stirred = asyncio.Event()  # one came, was answered, or waits for the rest
        self._wanted = False  # a request waits for the rest
        self._offered: tuple[ASGIApp, Callable[[Scope], bool]] | None = None
        self._offer_made = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None  # the build's, for `offer`
        self._offered_busy = 0  # requests in the offered app
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

    def offer(self, app: ASGIApp, takes: Callable[[Scope], bool]) -> None:
        """Until the application is built, the staff listener's requests that `takes` are
        `app`'s (called from the build's thread)."""
        self._offered = (app, takes)
        if self._loop is not None:  # else no request can wait for it yet
            self._loop.call_soon_threadsafe(self._offer_made.set)

    def answer_offered(self) -> None:
        """Let the offered app answer the requests it took before the build goes on (in the
        build's thread): they would share the interpreter with the build, and wait longer."""
        until = time.monotonic() + OFFERED_FIRST_MAX_S
        time.sleep(0.005)  # the event loop hands it those waiting for it
        while self._offered_busy and time.monotonic() < until:
            time.sleep(0.005)

    async def later(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The staff listener as if nothing were offered: for the offered app to pass on
        what it does not answer (it waits for the application, not counted as the offered
        app's any more, until the deadline it came with)."""
        offered = _OFFERED.get()
        if offered is not None and offered.counted:
            offered.counted = False
            self._offered_busy -= 1
        deadline = _deadline() if offered is None else offered.deadline
        await self._serve_built(False, scope, receive, send, deadline)

    async def _serve(self, public: bool, scope: Scope, receive: Receive, send: Send) -> None:
        if self._built is None and scope["type"] == "http" and scope["path"] == HEALTH:
            await _json(send, 200, {"ok": True, "office": self._office, "ready": False})
            return
        deadline = _deadline()
        if self._built is None and not public:  # it may be offered an app before it is built
            await _until_any((self._ready, self._offer_made, self._stopping), deadline)
            offered = self._offered
            stopping = self._stopping.is_set()  # then a 503, as before anything was offered
            if self._built is None and offered is not None and not stopping and offered[1](scope):
                await self._serve_offered(offered[0], deadline, scope, receive, send)
                return
        await self._serve_built(public, scope, receive, send, deadline)

    async def _serve_offered(
        self, app: ASGIApp, deadline: float, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request = _Offered(deadline)
        token = _OFFERED.set(request)
        self._offered_busy += 1
        try:
            await app(scope, receive, send)
        finally:
            _OFFERED.reset(token)
            if request.counted:
                self._offered_busy -= 1

    async def _serve_built(
        self, public: bool, scope: Scope, receive: Receive, send: Send, deadline: float
    ) -> None:
        """Serve `scope` with the application, once it is built (enough for it)."""
        if self._built is None:
            await _until_any((self._ready,), deadline)
        built = self._built
        now = built is not None and (self._rest_built or built.early(scope))
        if built is not None and not now:  # a route still to be built may take it
            self._wanted = True
            self._stirred.set()
            await _until_any((self._whole,), deadline)
        if built is None or not (now or self._rest_built):
            if scope["type"] == "http":  # still building, or stopping
                await _json(send, 503, _STARTING, {"retry-after": "5"})
            return
        app = built.public if public else built.app
        if self._rest_built:
            await app(scope, receive, send)
            return
        self._busy += 1
        self._stirred.set()
        answered = False

        async def answering(message: Message) -> None:
            nonlocal answered
            if not answered and message["type"] == "http.response.start":
                answered = True
                self._busy -= 1
                self._stirred.set()
            await send(message)

        try:
            await app(scope, receive, answering)
        finally:
            if not answered:
                self._busy -= 1
                self._stirred.set()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup: listen at once, build meanwhile
        await send({"type": "lifespan.startup.complete"})
        running = asyncio.create_task(self._run())
        await receive()  # lifespan.shutdown
        self._stopping.set()
        self._stirred.set()
        if self._built is None:
            running.cancel()  # the thread finishes its build; nothing uses it
        await asyncio.gather(running, return_exceptions=True)
        self._ready.set()  # nothing waits for a build that will not come
        self._whole.set()
        await send({"type": "lifespan.shutdown.complete"})

    async def _run(self) -> None:
        """Build the application, then run its lifespan until the hub stops."""
        try:
            self._loop = asyncio.get_running_loop()
            built = await asyncio.to_thread(self._build)
            async with built.lifespan():
                self._built = built
                self._ready.set()
                if built.rest is not None:
                    await self._lull()
                if not self._stopping.is_set():
                    if built.rest is not None:  # put in place between two requests
                        (await asyncio.to_thread(built.rest))()
                    self._rest_built = True
                    self._whole.set()
                    startup.settled()
                    log.info("the hub is ready")
                await self._stopping.wait()  # its tasks stop, its snapshot is kept
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # the hub cannot serve: it stops and says why
            self.failed = exc
            self.stop()

    async def _lull(self) -> None:
        """Until the first requests leave the hub a moment (see LULL_S)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LULL_MAX_S
        while not (self._wanted or self._stopping.is_set()):
            left = deadline - loop.time()
            if left <= 0:
                return
            self._stirred.clear()
            try:
                await asyncio.wait_for(self._stirred.wait(), min(LULL_S, left))
            except TimeoutError:
                if not self._busy:
                    return


@dataclass
class _Offered:
    """A request in the offered app: until when it may wait, whether it counts as busy."""

    deadline: float
    counted: bool = True


_OFFERED: ContextVar[_Offered | None] = ContextVar("offered", default=None)
_STARTING = {
    "title": "Service Unavailable",
    "status": 503,
    "detail": "The hub is starting; retry in a few seconds.",
}


def _deadline() -> float:
    """When a request that came now stops waiting for the application (WAIT_S)."""
    return asyncio.get_running_loop().time() + WAIT_S


async def _until_any(events: tuple[asyncio.Event, ...], deadline: float) -> None:
    """Until one of `events` is set, or `deadline` (the event loop's time)."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        left = max(deadline - asyncio.get_running_loop().time(), 0)
        await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _json(send: Send, status: int, body: dict[str, Any], headers: Any = None) -> None:
    data = json.dumps(body).encode()
    kind = "application/json" if status < 400 else "application/problem+json"
    fields = [(b"content-type", kind.encode()), (b"content-length", str(len(data)).encode())]
    fields += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": data})
