"""A screen on another PC follows the hub's board stream (Server-Sent Events).

Read-only: enough for a lobby display across the LAN (writing devices keep a
replica instead, see `replica.py`). It keeps the last board while the hub is
away, says so, and reconnects with a jittered backoff (the server's `retry:` as
its base), resuming with Last-Event-ID. With no events of its own to sync, it
reports its health (memory, uptime, version) by an empty sync push every
`health_every` seconds, as replicas do with each of theirs, so the desk and
`nowserving status` show it too.
"""

from __future__ import annotations

import logging
import ssl
import threading
from typing import TYPE_CHECKING

import httpx
from httpx_sse import ServerSentEvent, connect_sse
from pydantic import TypeAdapter

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import HubUnavailable, NowservingError
from nowserving.domain.pairing import REMOVED, REVOKED_CODE
from nowserving.domain.views import BoardView
from nowserving.service.interface import BoardSource
from nowserving.sync.backoff import Backoff
from nowserving.sync.client import HubClient, HubRefused, error_detail
from nowserving.sync.pairing import OfficeFile
from nowserving.sync.tls import verify_for
from nowserving.system import health

log = logging.getLogger(__name__)
_BOARD = TypeAdapter(BoardView)
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
HEALTH_EVERY_S = 60.0
OFFICE_EVERY_S = 5.0  # how often a paired display asks whether the office changed
# Connect, and read: the hub pings every 15 s, so 30 s of silence means it is gone.
STREAM_TIMEOUT = httpx.Timeout(30.0, connect=3.0)


class HubBoard:
    """The board as the hub streams it, with the `refresh()`/`board()` of a service.

    Args:
        hub: the hub's base URL, e.g. http://192.168.1.10:8400.
        secret: this device's secret from the office config.
        config: the office (for names and languages).
        health_every: seconds between reports of this process's health.
    """

    def __init__(
        self,
        hub: str,
        secret: str,
        config: OfficeConfig,
        *,
        health_every: float = HEALTH_EVERY_S,
        office: OfficeFile | None = None,
    ) -> None:
        self.url = hub.rstrip("/") + "/api/board/events"
        self.config = config
        self._headers = {"Authorization": f"Bearer {secret}"}
        verify = verify_for(config)  # the office CA: the same check as the sync client's
        # httpx takes a CA file only inside an SSL context (a path is deprecated).
        context = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self._http = httpx.Client(timeout=STREAM_TIMEOUT, verify=context)
        self.backoff = Backoff(FIRST_BACKOFF_S, MAX_BACKOFF_S)
        self._lock = threading.Lock()
        self._board: BoardView | None = None
        self._last_id: str | None = None
        self._changed = False
        self._problem = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="hub-board", daemon=True)
        self._thread.start()
        self._hub = HubClient(hub, secret, verify=verify)
        self._health_every = health_every
        threading.Thread(target=self._report_health, name="hub-health", daemon=True).start()
        if office is not None:
            threading.Thread(
                target=self._follow_office, args=(office,), name="hub-office", daemon=True
            ).start()

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
        while not self._stop.is_set():
            try:
                self._stream()
            except _Refused as exc:  # revoked, say: its own words, on screen
                with self._lock:
                    self._problem = str(exc)
                log.warning("the hub refused this display: %s", exc)
            except (httpx.HTTPError, ValueError) as exc:
                with self._lock:
                    self._problem = f"The hub does not answer: {exc}"
                log.info("board stream interrupted: %s", exc)
            # After a clean end too, as SSE clients do: never a tight reconnect loop.
            self._stop.wait(self.backoff.next())
        self._http.close()

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

    def _follow_office(self, office: OfficeFile) -> None:
        """Take up the office whenever its version at the hub moves."""
        version = office.load()[0]
        while not self._stop.wait(OFFICE_EVERY_S):
            try:
                followed = office.follow(self._hub, version)
            except HubRefused as refused:
                if refused.code == REVOKED_CODE:  # an open stream is not cut: say it here
                    with self._lock:
                        self._problem = REMOVED
                continue
            except NowservingError as exc:  # the board stream says what is wrong, on screen
                log.debug("office not followed: %s", exc)
                continue
            if followed is not None:
                version, config = followed
                with self._lock:
                    self.config, self._changed = config, True

    def _stream(self) -> None:
        """Follow one connection until it ends; returns when closed, raises when cut."""
        headers = dict(self._headers)
        if self._last_id:
            headers["Last-Event-ID"] = self._last_id
        with connect_sse(self._http, "GET", self.url, headers=headers) as source:
            response = source.response
            if response.status_code in (401, 403):
                response.read()
                raise _Refused(error_detail(response))
            response.raise_for_status()
            with self._lock:
                self._problem = ""
            self.backoff.reset()  # in touch again: the next outage starts from the base
            for event in source.iter_sse():
                if self._stop.is_set():
                    return
                if event.retry is not None:  # the server's own pace for reconnecting
                    self.backoff.rebase(event.retry / 1000)
                if event.data:  # a `retry:` or `id:` alone carries no board
                    self._received(event)

    def _received(self, event: ServerSentEvent) -> None:
        board = _BOARD.validate_json(event.data)
        with self._lock:
            self._board, self._changed = board, True
            self._last_id = event.id or self._last_id


class _Refused(Exception):
    """The hub answered the stream with 401/403: the message is its reason."""


if TYPE_CHECKING:  # mypy proves here that a display can follow the hub's board

    def _is_a_board_source(board: HubBoard) -> BoardSource:
        return board
