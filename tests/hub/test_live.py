"""The live fan-out in process, on a real store: who hears a change, and in what order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from nowserving.domain.views import TicketView
from nowserving.hub.live import PING, LiveHub
from nowserving.service.local import LocalService


def _render(view: TicketView) -> str:
    return json.dumps({"id": view.id, "status": view.status, "ahead": view.ahead})


async def _until(done: Callable[[], bool]) -> None:
    while not done():
        await asyncio.sleep(0.005)


def test_the_called_phone_hears_first_and_a_phone_whose_view_did_not_change_only_keep_alives(
    service: LocalService,
) -> None:
    first = service.issue("permits").token
    second = service.issue("permits").token
    elsewhere = service.issue("ids").token  # c1 serves only permits: its call leaves ids alone
    # Every follower is read only at the start (full_every): after it, only touched lines.
    live = LiveHub(
        service,
        service.ticket_statuses,
        _render,
        service.lines_changed,
        full_every=3600,
        keep_alive=0.5,
    )
    heard: list[tuple[str, bytes]] = []

    async def follow(token: str) -> None:
        async for frame in live.ticket_stream(token, _render(service.ticket_status(token))):
            heard.append((token, frame))

    def frames() -> list[tuple[str, bytes]]:  # after the first three, keep-alives aside
        return [(t, f) for t, f in heard[3:] if f != PING]

    async def scenario() -> None:
        watcher = asyncio.create_task(live.run())
        # The one behind subscribes first: without ordering, it would be written first.
        phones = [asyncio.create_task(follow(t)) for t in (second, first, elsewhere)]
        await asyncio.wait_for(_until(lambda: len(heard) == 3 and bool(live.board)), 10)
        service.call_next("c1")
        await asyncio.wait_for(_until(lambda: len(frames()) == 2), 10)
        # Let the ticket in the untouched line go quiet long enough for a keep-alive.
        await asyncio.wait_for(_until(lambda: (elsewhere, PING) in heard), 10)
        for task in (watcher, *phones):
            task.cancel()
        await asyncio.gather(watcher, *phones, return_exceptions=True)
        assert [t for t, _ in frames()] == [first, second]
        assert json.loads(frames()[0][1].split(b"data: ")[1])["status"] == "called"
        assert frames()[0][1].startswith(b"event: ticket\r\ndata: ")
        assert [f for t, f in heard[3:] if t == elsewhere] == [PING]

    asyncio.run(scenario())
