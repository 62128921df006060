"""Live updates: one watcher notices every change and pushes fresh snapshots.

A single task polls the service (cheap: SQLite's data_version) every
`interval` seconds, so changes made by any process on this PC, by a desk over
the API, or by sync are all seen the same way. Each subscriber has a mailbox of
one: a slow phone only ever gets the latest snapshot, never a backlog.
Snapshots are rendered once, in the worker thread, straight to the bytes of their
Server-Sent Event: on the event loop, a change costs one send per phone whose view
changed, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio.to_thread
from pydantic_core import to_jsonable_python

from nowserving.domain.views import TicketView
from nowserving.service.interface import Service

Snapshot = dict[str, Any]
# Followers of lines no change touched get fresh views at least this often: every wait
# counts from the latest event's time, wherever it happened (see views.lines_touched).
FULL_EVERY_S = 5.0
# A stream silent this long gets a comment line, so that proxies keep it open; a stream
# that was just sent a snapshot needs none (so no keep-alive competes with a fan-out).
PING_S = 15.0
PING = b": ping\r\n\r\n"


def frame(data: str, event: str, event_id: str | None = None) -> bytes:
    """One Server-Sent Event as written to the socket (the JSON holds no line breaks)."""
    head = f"id: {event_id}\r\n" if event_id else ""
    return f"{head}event: {event}\r\ndata: {data}\r\n\r\n".encode()


class _Mailbox:
    """Holds only the newest frame for one subscriber."""

    __slots__ = ("_frame", "_waiter")

    def __init__(self) -> None:
        self._frame: bytes | None = None
        self._waiter: asyncio.Future[None] | None = None

    def post(self, message: bytes) -> None:
        self._frame = message
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, ping_after: float) -> bytes:
        """The newest frame, waiting for one; PING if none came for `ping_after` s."""
        if self._frame is None:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            quiet = loop.call_later(ping_after, _wake, waiter)
            try:
                await waiter
            finally:
                quiet.cancel()
                self._waiter = None
            if self._frame is None:
                return PING
        message, self._frame = self._frame, None
        return message


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def urgency(old: TicketView | None, new: TicketView) -> tuple[bool, int]:
    """Sort key: who hears a change first. A changed status (the resident called) first,
    then those who moved most in line; phones that had no view yet last."""
    if old is None:
        return True, 0
    return old.status == new.status, -abs(old.ahead - new.ahead)


class LiveHub:
    """Publishes board and ticket snapshots to stream subscribers.

    After a change, the views of followed tickets in the lines it touched come from one
    batch read of the projection's index (all followed tickets at least every
    `full_every` seconds); only views that changed are rendered, only phones whose
    event's bytes changed get it, and the phone called and those who moved most first.

    Args:
        service: where the state comes from.
        ticket_views: today's views of many tickets at once, by token (unknown ones left out).
        render: what a resident may see of their ticket, from its view, as JSON.
        lines_changed: the lines whose views may have changed since it was last asked
            (None: any).
        interval: seconds between checks for changes.
        full_every: seconds between reads of every followed ticket, touched or not.
        keep_alive: seconds of silence after which a stream gets a comment line.
    """

    def __init__(
        self,
        service: Service,
        ticket_views: Callable[[list[str]], dict[str, TicketView]],
        render: Callable[[TicketView], str],
        lines_changed: Callable[[], frozenset[str] | None],
        interval: float = 0.05,
        full_every: float = FULL_EVERY_S,
        keep_alive: float = PING_S,
    ) -> None:
        self.service = service
        self._ticket_views = ticket_views
        self._render = render
        self._lines_changed = lines_changed
        self.interval = interval
        self.full_every = full_every
        self.keep_alive = keep_alive
        self._full_at = 0.0  # monotonic time of the last read of every followed ticket
        self._boards: set[_Mailbox] = set()
        self._tickets: dict[str, set[_Mailbox]] = {}
        self._last_frame: dict[str, bytes] = {}
        self._last_view: dict[str, TicketView] = {}
        self.board: Snapshot = {}
        self._board_frame = frame("{}", "board")

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
        board, self._board_frame, tickets = await anyio.to_thread.run_sync(self._snapshots, tokens)
        self.board = board
        for box in self._boards:
            box.post(self._board_frame)
        # Posted in order: each phone's stream wakes, and writes, in this order.
        for token, message in tickets:
            for box in self._tickets.get(token, ()):
                box.post(message)

    def _snapshots(self, tokens: list[str]) -> tuple[Snapshot, bytes, list[tuple[str, bytes]]]:
        """The board and its frame, and the frames for followed tickets whose event
        changed, most urgent first."""
        board: Snapshot = to_jsonable_python(self.service.board())
        board_frame = frame(
            json.dumps(board, ensure_ascii=False), "board", board.get("version") or None
        )
        lines = self._lines_changed()
        if lines is None or time.monotonic() - self._full_at >= self.full_every:
            self._full_at = time.monotonic()
        else:  # only the lines touched, and tickets not read yet
            tokens = [
                token
                for token in tokens
                if (view := self._last_view.get(token)) is None or view.line in lines
            ]
        changed = []
        for token, view in self._ticket_views(tokens).items():
            old = self._last_view.get(token)
            if view == old:  # unchanged views are not rendered again
                continue
            self._last_view[token] = view
            message = frame(self._render(view), "ticket")
            if message != self._last_frame.get(token):
                self._last_frame[token] = message
                changed.append((urgency(old, view), token, message))
        changed.sort(key=lambda item: item[0])
        return board, board_frame, [(token, message) for _, token, message in changed]

    async def board_stream(self, last_seen: str | None) -> AsyncIterator[bytes]:
        """The board now (unless `last_seen` is current), then after every change."""
        box = _Mailbox()
        self._boards.add(box)
        try:
            if not self.board:
                await self._publish()
            if self.board.get("version") != last_seen:
                yield self._board_frame
            while True:
                yield await box.next(self.keep_alive)
        finally:
            self._boards.discard(box)

    async def ticket_stream(self, token: str, first: str) -> AsyncIterator[bytes]:
        """One resident's ticket (`first`: its JSON now), then whenever what they see
        changes."""
        box = _Mailbox()
        self._tickets.setdefault(token, set()).add(box)
        try:
            message = frame(first, "ticket")
            self._last_frame.setdefault(token, message)
            yield message
            while True:
                yield await box.next(self.keep_alive)
        finally:
            boxes = self._tickets.get(token, set())
            boxes.discard(box)
            if not boxes:
                self._tickets.pop(token, None)
                self._last_frame.pop(token, None)
                self._last_view.pop(token, None)
