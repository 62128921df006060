"""Tell screens when the office changed, whoever changed it."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from nowserving.domain.errors import DeviceRemoved, HubUnavailable, StoreError
from nowserving.service.interface import Refreshable

log = logging.getLogger(__name__)


class ServiceWatcher(QObject):
    """Polls `service.refresh()` (a cheap SQLite data_version check) and emits `changed`.

    Signals:
        changed: the state moved; re-render from the service.
        trouble: the store or hub cannot be read (message), or "" once it can again.
        removed: the hub revoked this device (once): say so, it will not come back.
    """

    changed = Signal()
    trouble = Signal(str)
    removed = Signal()

    def __init__(
        self, service: Refreshable, interval_ms: int = 100, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self._problem = ""
        self._removed = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    def poll(self) -> None:
        try:
            changed = self.service.refresh()
        except (StoreError, HubUnavailable) as exc:
            if str(exc) != self._problem:
                log.warning("cannot read the store: %s", exc)
                self._problem = str(exc)
                self.trouble.emit(self._problem)
            if isinstance(exc, DeviceRemoved) and not self._removed:
                self._removed = True
                self.removed.emit()
            return
        if self._problem:
            self._problem = ""
            self.trouble.emit("")
        if changed:
            self.changed.emit()

    def stop(self) -> None:
        self._timer.stop()
