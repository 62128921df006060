"""Counting what is alive, to hold a leak fixed: counts before and after N operations.

Counts, not timings or RSS: a leak of one object per operation shows as N objects.
"""

from __future__ import annotations

import gc
from collections import Counter

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThreadPool
from PySide6.QtWidgets import QApplication, QWidget


def settle() -> None:
    """Finish background jobs, queued signals and pending deleteLater calls."""
    QThreadPool.globalInstance().waitForDone()
    for _ in range(3):
        QCoreApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def alive(root: QWidget | None = None) -> Counter[str]:
    """Python objects by type, the app's widgets, and the QObjects under `root`."""
    settle()
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    counts["<Qt widgets>"] = len(QApplication.allWidgets())
    if root is not None:
        counts["<Qt objects under root>"] = len(root.findChildren(QObject))
    return counts


def grown(before: Counter[str], after: Counter[str], slack: int = 0) -> dict[str, int]:
    """Types that grew by more than `slack` (a few may come and go with caches)."""
    return {k: after[k] - before[k] for k in after if after[k] - before[k] > slack}
