"""Shared fixtures. Qt must learn its platform before any QApplication exists."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from nowserving.domain.config import OfficeConfig, load_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.pg import Cluster, make_cluster, remove_cluster

SAMPLE_ZONE = ZoneInfo("America/Los_Angeles")


@dataclass
class FakeClock:
    """A wall clock the test moves by hand (ms since the epoch)."""

    ms: int

    def __call__(self) -> int:
        return self.ms

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.ms += int((minutes * 60 + seconds) * 1000)


def office_time(text: str) -> int:
    """'2026-11-24 09:00' in the sample office's zone, as epoch ms."""
    moment = datetime.fromisoformat(text).replace(tzinfo=SAMPLE_ZONE)
    return int(moment.timestamp() * 1000)


@pytest.fixture(scope="session")
def config() -> OfficeConfig:
    return load_config(sample_config())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(office_time("2026-11-24 09:00"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    opened = EventStore(tmp_path / "office.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def service(store: EventStore, config: OfficeConfig, clock: FakeClock) -> LocalService:
    return LocalService(store, config, "desk-1", now=clock)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A private PostgreSQL cluster for the whole run (started on first use, ~2 s)."""
    cluster = make_cluster()
    yield cluster
    remove_cluster(cluster)
