"""The display's stream reader against a tiny real SSE server: the spec's parts the hub
does not send yet (multi-line `data:`, `retry:`, comments, a lone `id:`) still read right."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from pydantic import TypeAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import BoardView
from nowserving.service.local import LocalService
from nowserving.sync.board_stream import HubBoard
from tests.hub.conftest import DISPLAY, free_port
from tests.sync.waiting import wait_until


class SseServer:
    """One event stream on loopback: the first connection gets `first` and is closed,
    later ones get `later` and are kept open. It notes each connection's Last-Event-ID."""

    def __init__(self, first: str, later: str) -> None:
        self.last_event_ids: list[str] = []
        self.url = f"http://127.0.0.1:{free_port()}"

        async def events(request: Request) -> StreamingResponse:
            self.last_event_ids.append(request.headers.get("last-event-id", ""))
            connection = len(self.last_event_ids)

            async def body() -> AsyncIterator[str]:
                yield first if connection == 1 else later
                if connection > 1:
                    await asyncio.sleep(60)  # open until the server stops

            return StreamingResponse(body(), media_type="text/event-stream")

        app = Starlette(routes=[Route("/api/board/events", events)])
        port = int(self.url.rsplit(":", 1)[1])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> SseServer:
        self.thread.start()
        wait_until(lambda: self.server.started)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _event(board: BoardView, event_id: str, *, indent: int | None) -> str:
    text = json.dumps(TypeAdapter(BoardView).dump_python(board, mode="json"), indent=indent)
    data = "".join(f"data: {line}\n" for line in text.splitlines())
    return f"event: board\nid: {event_id}\n{data}\n"


@pytest.fixture
def boards(service: LocalService) -> Iterator[tuple[BoardView, BoardView]]:
    service.set_announcement({"en": "Counter 3 closes at noon."})
    before = service.board()
    service.issue("permits")
    yield before, service.board()


def test_multi_line_data_and_the_servers_retry_are_read_as_the_spec_says(
    boards: tuple[BoardView, BoardView], config: OfficeConfig
) -> None:
    before, after = boards
    pretty = _event(before, "v1", indent=2)  # one `data:` line per line of the JSON
    assert pretty.count("data: ") > 10
    first = "retry: 1500\n\n: a comment, as the hub's pings are\n\n" + pretty
    with SseServer(first, _event(after, "v2", indent=None)) as server:
        source = HubBoard(server.url, DISPLAY, config, health_every=3600)
        try:
            wait_until(lambda: server.last_event_ids)  # connected
            wait_until(source.refresh)
            assert source.board() == before  # multi-line data joined back
            assert source.backoff.base == 1.5  # `retry: 1500` paces the reconnects
            # The server closed the stream: the reader comes back, resuming after v1.
            wait_until(lambda: len(server.last_event_ids) == 2)
            assert server.last_event_ids == ["", "v1"]
            wait_until(source.refresh)
            assert source.board() == after
        finally:
            source.close()
