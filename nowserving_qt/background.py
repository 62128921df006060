"""Run service calls off the UI thread and hear back on it (like Anki's CollectionOp)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.work = work
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # reported on the UI thread, where it is handled
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)


_pending: set[_Signals] = set()  # keeps each job's signals alive until it reports


def run_in_background(
    work: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[Exception], None],
) -> None:
    """Run `work` on the thread pool; exactly one of the callbacks runs on the UI thread."""
    signals = _Signals()
    _pending.add(signals)

    def done(callback: Callable[[Any], None]) -> Callable[[Any], None]:
        def finish(value: Any) -> None:
            _pending.discard(signals)
            callback(value)

        return finish

    signals.succeeded.connect(done(on_success))
    signals.failed.connect(done(on_failure))
    QThreadPool.globalInstance().start(_Job(work, signals))
