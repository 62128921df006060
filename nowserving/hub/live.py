"""Live updates: one watcher notices every change and pushes fresh snapshots.

A single task polls the service (cheap: SQLite's data_version) every
`interval` seconds, so changes made by any process on this PC, by a desk over
the API, or by sync are all seen the same way. Each subscriber has a queue of
one: a slow phone only ever gets the latest snapshot, never a backlog.
Snapshots are serialised once, in the worker thread, not once per subscriber
on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi.encoders import jsonable_encoder

from nowserving.domain.views import TicketView
from nowserving.service.interface import Service

Snapshot = dict[str, Any]
# Followers of lines no change touched get fresh views at least this often: every wait
# counts from the latest event's time, wherever it happened (see views.lines_touched).
FULL_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Message:
    """A snapshot as sent: its JSON, and its version for the event id (the board's)."""

    data: str
    id: str | None = None

    @classmethod
    def of(cls, snapshot: Snapshot) -> Message:
        return cls(json.dumps(snapshot, ensure_ascii=False), snapshot.get("version") or None)


class _Mailbox:
    """Holds only the newest message for one subscriber."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)

    def post(self, message: Message) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(message)

    async def next(self) -> Message:
        return await self._queue.get()


class LiveHub:
    """Publishes board and ticket snapshots to stream subscribers.

    After a change, the views of followed tickets in the lines it touched come from one
    batch read of the projection's index (all followed tickets at least every
    `full_every` seconds); only views that changed are rendered, and only phones whose
    snapshot changed get a message.

    Args:
        service: where the state comes from.
        ticket_views: today's views of many tickets at once, by token (unknown ones left out).
        render: what a resident may see of their ticket, from its view.
        lines_changed: the lines whose views may have changed since it was last asked
            (None: any).
        interval: seconds between checks for changes.
        full_every: seconds between reads of every followed ticket, touched or not.
    """

    def __init__(
        self,
        service: Service,
        ticket_views: Callable[[list[str]], dict[str, TicketView]],
        render: Callable[[TicketView], Snapshot],
        lines_changed: Callable[[], frozenset[str] | None],
        interval: float = 0.05,
        full_every: float = FULL_EVERY_S,
    ) -> None:
        self.service = service
        self._ticket_views = ticket_views
        self._render = render
        self._lines_changed = lines_changed
        self.interval = interval
        self.full_every = full_every
        self._full_at = 0.0  # monotonic time of the last read of every followed ticket
        self._boards: set[_Mailbox] = set()
        self._tickets: dict[str, set[_Mailbox]] = {}
        self._last_ticket: dict[str, Snapshot] = {}
        self._last_view: dict[str, TicketView] = {}
        self.board: Snapshot = {}
        self._board_message = Message("{}")

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
        self.board, self._board_message = board, Message.of(board)
        for box in self._boards:
            box.post(self._board_message)
        for token, message in tickets.items():
            for box in self._tickets.get(token, ()):
                box.post(message)

    def _snapshots(self, tokens: list[str]) -> tuple[Snapshot, dict[str, Message]]:
        """The board, and the messages for followed tickets whose snapshot changed."""
        board: Snapshot = jsonable_encoder(self.service.board())
        lines = self._lines_changed()
        if lines is None or time.monotonic() - self._full_at >= self.full_every:
            self._full_at = time.monotonic()
        else:  # only the lines touched, and tickets not read yet
            tokens = [
                token
                for token in tokens
                if (view := self._last_view.get(token)) is None or view.line in lines
            ]
        tickets = {}
        for token, view in self._ticket_views(tokens).items():
            if view == self._last_view.get(token):  # unchanged views are not rendered again
                continue
            self._last_view[token] = view
            snapshot = self._render(view)
            if snapshot != self._last_ticket.get(token):
                self._last_ticket[token] = snapshot
                tickets[token] = Message.of(snapshot)
        return board, tickets

    async def board_stream(self, last_seen: str | None) -> AsyncIterator[Message]:
        """The board now (unless `last_seen` is current), then after every change."""
        box = _Mailbox()
        self._boards.add(box)
        try:
            if not self.board:
                await self._publish()
            if self.board.get("version") != last_seen:
                yield self._board_message
            while True:
                yield await box.next()
        finally:
            self._boards.discard(box)

    async def ticket_stream(self, token: str, first: Snapshot) -> AsyncIterator[Message]:
        """One resident's ticket now, then whenever what they see changes."""
        box = _Mailbox()
        self._tickets.setdefault(token, set()).add(box)
        try:
            self._last_ticket.setdefault(token, first)
            yield Message.of(first)
            while True:
                yield await box.next()
        finally:
            boxes = self._tickets.get(token, set())
            boxes.discard(box)
            if not boxes:
                self._tickets.pop(token, None)
                self._last_ticket.pop(token, None)
                self._last_view.pop(token, None)
