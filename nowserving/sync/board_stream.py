"""A screen on another PC follows the hub's board stream (Server-Sent Events).

Read-only: enough for a lobby display across the LAN. It keeps the last board
while the hub is away, says so, and reconnects with backoff, resuming with
Last-Event-ID. (Writing devices get a full replica in the offline-sync work.)
With no events of its own to sync, it reports its health (memory, uptime,
version) by an empty sync push every `health_every` seconds, as replicas do
with each of theirs, so the desk and `nowserving status` show it too.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import requests
from pydantic import TypeAdapter

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import HubUnavailable, NowservingError
from nowserving.domain.views import BoardView
from nowserving.service.interface import BoardSource
from nowserving.sync.client import HubClient, error_detail
from nowserving.system import health

log = logging.getLogger(__name__)
_BOARD = TypeAdapter(BoardView)
MAX_BACKOFF_S = 10.0
HEALTH_EVERY_S = 60.0


class HubBoard:
    """The board as the hub streams it, with the `refresh()`/`board()` of a service.

    Args:
        hub: the hub's base URL, e.g. http://192.168.1.10:8400.
        secret: this device's secret from the office config.
        config: the office (for names and languages).
        health_every: seconds between reports of this process's health.
    """

    def __init__(
        self, hub: str, secret: str, config: OfficeConfig, *, health_every: float = HEALTH_EVERY_S
    ) -> None:
        self.url = hub.rstrip("/") + "/api/board/events"
        self.config = config
        self._headers = {"Authorization": f"Bearer {secret}", "Accept": "text/event-stream"}
        self._lock = threading.Lock()
        self._board: BoardView | None = None
        self._last_id: str | None = None
        self._changed = False
        self._problem = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="hub-board", daemon=True)
        self._thread.start()
        self._hub = HubClient(hub, secret)
        self._health_every = health_every
        threading.Thread(target=self._report_health, name="hub-health", daemon=True).start()

    def close(self) -> None:
        self._stop.set()

    def refresh(self) -> bool:
        """True once per new board; raises HubUnavailable while the hub cannot be reached."""
        with self._lock:
            if self._problem:
                raise HubUnavailable(self._problem)
            changed, self._changed = self._changed, False
            return changed

    def board(self) -> BoardView:
        with self._lock:
            if self._board is None:
                raise HubUnavailable(self._problem or f"Waiting for the hub at {self.url}.")
            return self._board

    def _follow(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._stream()
                backoff = 0.5
            except (requests.RequestException, ValueError) as exc:
                with self._lock:
                    self._problem = f"The hub does not answer: {exc}"
                log.info("board stream interrupted: %s; retrying in %.1f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _report_health(self) -> None:
        while True:
            try:
                self._hub.call(
                    "POST", "/api/sync/push", json={"events": [], "health": health.current()}
                )
            except NowservingError as exc:  # the board stream says what is wrong, on screen
                log.debug("health report not sent: %s", exc)
            if self._stop.wait(self._health_every):
                return

    def _stream(self) -> None:
        headers = dict(self._headers)
        if self._last_id:
            headers["Last-Event-ID"] = self._last_id
        with requests.get(self.url, headers=headers, stream=True, timeout=(3, 30)) as response:
            if response.status_code in (401, 403):
                raise ValueError(f"the hub refused this device: {error_detail(response)}")
            response.raise_for_status()
            with self._lock:
                self._problem = ""
            event: dict[str, Any] = {}
            for raw in response.iter_lines():
                line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                if self._stop.is_set():
                    return
                if line.startswith("id:"):
                    event["id"] = line[3:].strip()
                elif line.startswith("data:"):
                    event["data"] = event.get("data", "") + line[5:].strip()
                elif line == "" and "data" in event:
                    self._received(event)
                    event = {}

    def _received(self, event: dict[str, Any]) -> None:
        board = _BOARD.validate_python(json.loads(event["data"]))
        with self._lock:
            self._board, self._changed = board, True
            self._last_id = event.get("id") or self._last_id


if TYPE_CHECKING:  # mypy proves here that a display can follow the hub's board

    def _is_a_board_source(board: HubBoard) -> BoardSource:
        return board
