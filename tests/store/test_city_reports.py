"""`nowserving report --city`: the office report's figures, computed in PostgreSQL."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from nowserving.cli.main import main
from nowserving.domain.config import City, OfficeConfig, ServiceLevel
from nowserving.hub.city_stream import CityStream
from nowserving.service.local import LocalService
from nowserving.store import city_reports
from nowserving.store.city import CityWriter
from nowserving.store.eventstore import EventStore
from nowserving.store.reports import build
from tests.conftest import FakeClock
from tests.pg import Cluster
from tests.store.test_reports import DAY, known_day

__all__ = ["known_day"]  # the fixture: a day with known answers
SAME = ("issued", "served", "no_shows", "left", "wait_median", "wait_max", "service_median")


def test_the_city_report_matches_the_office_report(
    known_day: dict[str, str],
    store: EventStore,
    config: OfficeConfig,
    clock: FakeClock,
    postgres: Cluster,
    tmp_path: Path,
) -> None:
    url = postgres.create_database("reports")
    lines = [
        line.model_copy(update={"service_level": ServiceLevel(within_minutes=22, percent=90)})
        if line.id == "permits"
        else line
        for line in config.lines
    ]
    for office in ("north", "south"):  # the same day in two offices
        office_config = config.model_copy(
            update={"lines": lines, "city": City(database=url, office_id=office, staff_names=True)}
        )
        service = LocalService(store, office_config, "hub", now=clock)
        stream = CityStream(service)
        stream.connect()
        stream.round()
        stream.writer.close()

    tables, labels = city_reports.build(url, DAY, DAY)
    (office_row,) = build(store, config, DAY, DAY)["lines"]
    assert [row["office"] for row in tables["lines"]] == ["north", "south"]
    for row in tables["lines"]:
        assert {k: row[k] for k in SAME} == {k: office_row[k] for k in SAME}
    assert [(r["office"], r["within"], r["late"], r["met"]) for r in tables["service_levels"]] == [
        ("north", 1, 1, False),
        ("south", 1, 1, False),
    ]
    assert [(r["staff"], r["served"], r["handling_mean"]) for r in tables["staff"]] == [
        ("maria", 1, 10.0),
        ("maria", 1, 10.0),
    ]
    assert labels.lines["permits"] == "Building permits"

    out = tmp_path / "city-report"
    args = [
        "report",
        "--city",
        url,
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-24",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    with (out / "lines.csv").open() as handle:
        assert [row["office"] for row in csv.DictReader(handle)] == ["north", "south"]
    assert (out / "summary.pdf").read_bytes().startswith(b"%PDF")

    # Retention in the city: past the window, the north's staff ids are gone there too.
    writer = CityWriter(url, "north", staff_names=True)
    writer.connect()
    assert writer.purge((DAY + timedelta(days=1)).isoformat()) > 0
    writer.close()
    tables, _ = city_reports.build(url, DAY, DAY)
    assert [row["office"] for row in tables["staff"]] == ["south"]
