"""Live updates: one watcher notices every change and pushes fresh snapshots.

A single task polls the service (cheap: SQLite's data_version) every
`interval` seconds, so changes made by any process on this PC, by a desk over
the API, or by sync are all seen the same way. Each subscriber has a queue of
one: a slow phone only ever gets the latest snapshot, never a backlog.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio.to_thread
from fastapi.encoders import jsonable_encoder

from nowserving.domain.views import TicketView
from nowserving.service.interface import Service

Snapshot = dict[str, Any]


class _Mailbox:
    """Holds only the newest snapshot for one subscriber."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Snapshot] = asyncio.Queue(maxsize=1)

    def post(self, snapshot: Snapshot) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(snapshot)

    async def next(self) -> Snapshot:
        return await self._queue.get()


class LiveHub:
    """Publishes board and ticket snapshots to stream subscribers.

    After a change, every followed ticket's view comes from one batch read of the
    projection's index; only views that changed are rendered, and only phones whose
    snapshot changed get a message.

    Args:
        service: where the state comes from.
        ticket_views: today's views of many tickets at once, by token (unknown ones left out).
        render: what a resident may see of their ticket, from its view.
        interval: seconds between checks for changes.
    """

    def __init__(
        self,
        service: Service,
        ticket_views: Callable[[list[str]], dict[str, TicketView]],
        render: Callable[[TicketView], Snapshot],
        interval: float = 0.05,
    ) -> None:
        self.service = service
        self._ticket_views = ticket_views
        self._render = render
        self.interval = interval
        self._boards: set[_Mailbox] = set()
        self._tickets: dict[str, set[_Mailbox]] = {}
        self._last_ticket: dict[str, Snapshot] = {}
        self._last_view: dict[str, TicketView] = {}
        self.board: Snapshot = {}

    @property
    def followers(self) -> int:
        return sum(len(boxes) for boxes in self._tickets.values()) + len(self._boards)

    async def run(self) -> None:
        """Watch for changes until cancelled."""
        while True:
            began = time.perf_counter()
            changed = await anyio.to_thread.run_sync(self.service.refresh)
            if changed or not self.board:
                await self._publish()
            # Never more than half the time on fan-out: with thousands of phones and a
            # change every few ms, requests keep their share and changes coalesce.
            await asyncio.sleep(max(self.interval, time.perf_counter() - began))

    async def _publish(self) -> None:
        tokens = list(self._tickets)
        board, tickets = await anyio.to_thread.run_sync(self._snapshots, tokens)
        self.board = board
        for box in self._boards:
            box.post(board)
        for token, snapshot in tickets.items():
            if snapshot != self._last_ticket.get(token):
                self._last_ticket[token] = snapshot
                for box in self._tickets.get(token, ()):
                    box.post(snapshot)

    def _snapshots(self, tokens: list[str]) -> tuple[Snapshot, dict[str, Snapshot]]:
        """The board, and the snapshots of followed tickets whose view changed."""
        board: Snapshot = jsonable_encoder(self.service.board())
        tickets = {}
        for token, view in self._ticket_views(tokens).items():
            if view != self._last_view.get(token):  # unchanged views are not rendered again
                self._last_view[token] = view
                tickets[token] = self._render(view)
        return board, tickets

    async def board_stream(self, last_seen: str | None) -> AsyncIterator[Snapshot]:
        """The board now (unless `last_seen` is current), then after every change."""
        box = _Mailbox()
        self._boards.add(box)
        try:
            if not self.board:
                await self._publish()
            if self.board.get("version") != last_seen:
                yield self.board
            while True:
                yield await box.next()
        finally:
            self._boards.discard(box)

    async def ticket_stream(self, token: str, first: Snapshot) -> AsyncIterator[Snapshot]:
        """One resident's ticket now, then whenever what they see changes."""
        box = _Mailbox()
        self._tickets.setdefault(token, set()).add(box)
        try:
            self._last_ticket.setdefault(token, first)
            yield first
            while True:
                yield await box.next()
        finally:
            boxes = self._tickets.get(token, set())
            boxes.discard(box)
            if not boxes:
                self._tickets.pop(token, None)
                self._last_ticket.pop(token, None)
                self._last_view.pop(token, None)
