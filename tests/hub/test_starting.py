"""The hub listens before its application is built: health at once, the rest waits for it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from nowserving.hub.starting import Built, Starting


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"app {scope['path']}".encode()})


class _Lifespan:
    """Drives an ASGI app's lifespan as uvicorn does."""

    def __init__(self, app: Any) -> None:
        self.inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.task = asyncio.create_task(app({"type": "lifespan"}, self.inbox.get, self.outbox.put))

    async def say(self, message: str) -> str:
        await self.inbox.put({"type": f"lifespan.{message}"})
        return (await self.outbox.get())["type"]


async def _started(starting: Starting) -> _Lifespan:
    """`starting`'s staff listener, its lifespan started as uvicorn starts it."""
    life = _Lifespan(starting.staff)
    assert await life.say("startup") == "lifespan.startup.complete"
    return life


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://h")


@asynccontextmanager
async def _no_tasks() -> AsyncIterator[None]:
    yield


def test_health_answers_at_once_and_a_request_waits_for_the_application() -> None:
    asyncio.run(asyncio.wait_for(_waits_for_the_application(), 60))


async def _waits_for_the_application() -> None:
    release = threading.Event()
    phases: list[str] = []

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        phases.append("started")
        yield
        phases.append("stopped")  # the real app keeps its snapshot here

    def build() -> Built:
        release.wait(timeout=30)
        return Built(_answer, _answer, lifespan)

    starting = Starting(build, "Test office")
    life = await _started(starting)  # before the build
    client = _client(starting.staff)
    async with client:
        health = await client.get("/api/health")
        assert health.json() == {"ok": True, "office": "Test office", "ready": False}
        board = asyncio.create_task(client.get("/api/board"))
        await client.get("/api/health")
        assert not board.done()  # it waits for the application
        release.set()
        assert (await board).text == "app /api/board"
        assert (await client.get("/api/health")).text == "app /api/health"
    assert phases == ["started"]
    assert await life.say("shutdown") == "lifespan.shutdown.complete"
    assert phases == ["started", "stopped"]


def test_a_build_that_fails_stops_the_hub_with_its_error() -> None:
    asyncio.run(asyncio.wait_for(_fails(), 60))


async def _fails() -> None:
    def build() -> Built:
        raise RuntimeError("the store is damaged")

    stopped = asyncio.Event()
    starting = Starting(build, "Test office")
    starting.stop = stopped.set
    life = await _started(starting)
    await stopped.wait()
    assert isinstance(starting.failed, RuntimeError)
    assert await life.say("shutdown") == "lifespan.shutdown.complete"


def test_a_first_request_is_served_before_the_rest_is_built_and_another_waits_for_it() -> None:
    asyncio.run(asyncio.wait_for(_two_phases(), 60))


async def _two_phases() -> None:
    release = threading.Event()
    placed: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"{scope['path']} {placed}".encode()})

    def rest() -> Callable[[], None]:
        release.wait(timeout=30)  # the test decides when the rest is built
        return lambda: placed.append("rest")

    def build() -> Built:
        return Built(app, app, _no_tasks, early=lambda s: s["path"] == "/api/board", rest=rest)

    starting = Starting(build, "Test office")
    life = await _started(starting)
    client = _client(starting.public)
    async with client:
        # The first part is built: a hot request is answered while the rest is not.
        assert (await client.get("/api/board")).text == "/api/board []"
        lines = asyncio.create_task(client.get("/api/lines"))
        assert (await client.get("/api/board")).text == "/api/board []"
        assert not lines.done()  # it waits for the rest
        release.set()
        assert (await lines).text == "/api/lines ['rest']"  # served once the rest is in place
    assert await life.say("shutdown") == "lifespan.shutdown.complete"


def test_the_rest_is_built_when_no_request_comes() -> None:
    asyncio.run(asyncio.wait_for(_rest_unasked(), 60))


async def _rest_unasked() -> None:
    placed = asyncio.Event()

    def build() -> Built:
        return Built(_answer, _answer, _no_tasks, rest=lambda: placed.set)

    life = await _started(Starting(build, "Test office"))
    await placed.wait()  # after a lull of LULL_S with nothing to answer
    assert await life.say("shutdown") == "lifespan.shutdown.complete"


def test_an_offered_app_answers_its_requests_while_the_build_goes_on() -> None:
    asyncio.run(asyncio.wait_for(_offered_first(), 60))


async def _offered_first() -> None:
    offered, built = threading.Event(), threading.Event()

    async def lane(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["query_string"] == b"pass":  # what it does not answer: as if not offered
            await starting.later(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"lane"})

    def build() -> Built:
        offered.wait(timeout=30)
        starting.offer(lane, lambda scope: scope["path"] == "/api/tickets")
        starting.answer_offered()
        built.wait(timeout=30)
        return Built(_answer, _answer, _no_tasks)

    starting = Starting(build, "Test office")
    life = await _started(starting)
    staff, public = _client(starting.staff), _client(starting.public)
    async with staff, public:
        early = asyncio.create_task(staff.post("/api/tickets"))  # came before the offer
        await staff.get("/api/health")
        assert not early.done()
        offered.set()
        assert (await early).text == "lane"
        assert (await staff.post("/api/tickets")).text == "lane"
        waiting = [
            asyncio.create_task(staff.get("/api/board")),  # not the lane's
            asyncio.create_task(public.post("/api/tickets")),  # the residents' listener
            asyncio.create_task(staff.post("/api/tickets?pass")),  # passed on by the lane
        ]
        await staff.get("/api/health")
        assert not any(task.done() for task in waiting)
        built.set()
        answers = [(await task).text for task in waiting]
        assert answers == ["app /api/board", "app /api/tickets", "app /api/tickets"]
        assert (await staff.post("/api/tickets")).text == "app /api/tickets"  # built: the app's
    assert await life.say("shutdown") == "lifespan.shutdown.complete"


def test_a_stopping_hub_answers_503_rather_than_the_offered_app() -> None:
    asyncio.run(asyncio.wait_for(_stopping_with_an_offer(), 60))


async def _stopping_with_an_offer() -> None:
    offered, release = threading.Event(), threading.Event()

    def build() -> Built:
        starting.offer(_answer, lambda scope: True)
        offered.set()
        release.wait(timeout=30)
        return Built(_answer, _answer, _no_tasks)

    starting = Starting(build, "Test office")
    life = await _started(starting)
    client = _client(starting.staff)
    async with client:
        await asyncio.to_thread(offered.wait, 30)
        assert (await client.post("/api/tickets")).text == "app /api/tickets"  # offered
        assert await life.say("shutdown") == "lifespan.shutdown.complete"
        stopped = await client.post("/api/tickets")
    release.set()
    assert stopped.status_code == 503 and stopped.headers["retry-after"] == "5"
