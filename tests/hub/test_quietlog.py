"""A flood of one message becomes a few lines and a count."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from nowserving.hub.quietlog import Summarise


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logged() -> Iterator[tuple[Lines, list[float]]]:
    now = [0.0]
    handler = Lines()
    handler.addFilter(Summarise(burst=3, window=60, clock=lambda: now[0]))
    logger = logging.getLogger("test.quietlog")
    logger.addHandler(handler)
    logger.propagate = False
    yield handler, now
    logger.removeHandler(handler)


def test_repeats_are_counted_not_written(logged: tuple[Lines, list[float]]) -> None:
    handler, now = logged
    log = logging.getLogger("test.quietlog")
    for n in range(1535):
        log.warning("refused a connection from %s", f"10.0.{n // 256}.{n % 256}")
    log.warning("something else")
    assert len(handler.lines) == 4  # three of the flood, one of the other kind
    now[0] = 61
    log.warning("refused a connection from %s", "10.0.0.1")  # a new window: it says the count
    assert handler.lines[4:] == [
        "… and 1,532 more like this in the last minute: refused a connection from 10.0.0.0",
        "refused a connection from 10.0.0.1",
    ]
