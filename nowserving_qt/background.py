"""Run service calls off the UI thread and hear back on it (like Anki's CollectionOp)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThreadPool, Signal

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Signals(QObject):
    """Carries one job's result to the UI thread, calls back once, then deletes itself.

    The callbacks are attributes (no closures connected to signals): a closure that
    refers to the object it is connected to is a cycle held in C++ that Python's
    collector never sees, and every job would stay alive for good.
    """

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(
        self, on_success: Callable[[Any], None], on_failure: Callable[[Exception], None]
    ) -> None:
        super().__init__()
        self._callbacks: tuple[Callable[[Any], None], Callable[[Any], None]] | None = (
            on_success,
            on_failure,
        )
        self.succeeded.connect(self._succeeded)
        self.failed.connect(self._failed)

    def _succeeded(self, value: Any) -> None:
        self._finish(0, value)

    def _failed(self, error: Any) -> None:
        self._finish(1, error)

    def _finish(self, which: int, value: Any) -> None:
        _pending.discard(self)
        callbacks, self._callbacks = self._callbacks, None
        self.deleteLater()  # drops the C++ side and its connections
        if callbacks is not None:
            callbacks[which](value)


_pending: set[_Signals] = set()  # keeps each job's signals alive until it reports


def run_in_background(
    work: Callable[[], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[Exception], None],
) -> None:
    """Run `work` on the thread pool; exactly one of the callbacks runs on the UI thread.

    Generic in the result, so `on_success` is checked against what `work` returns.
    """
    signals = _Signals(on_success, on_failure)
    _pending.add(signals)

    def job() -> None:
        try:
            result = work()
        except Exception as exc:  # reported on the UI thread, where it is handled
            signals.failed.emit(exc)
        else:
            signals.succeeded.emit(result)

    # A plain callable, not a QRunnable subclass: PySide6 keeps the Python wrapper of
    # a started QRunnable (and all it holds) alive after the job has run.
    QThreadPool.globalInstance().start(job)
