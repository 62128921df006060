"""Reports and retention on a log with known answers."""

from __future__ import annotations

import csv
import os
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from nowserving.cli.main import main
from nowserving.domain.config import OfficeConfig, ServiceLevel
from nowserving.domain.events import Event, Kind
from nowserving.service.interface import Expired
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.store.reports import build, write_report
from nowserving.store.retention import purge
from tests.conftest import FakeClock, office_time

DAY = date(2026, 11, 24)


@pytest.fixture
def known_day(store: EventStore, config: OfficeConfig, clock: FakeClock) -> dict[str, str]:
    """09:00, 09:05, 09:10 three residents for permits; one served, one no-show, one leaves."""
    desk = LocalService(store, config, "desk-1", now=clock)
    tokens = {}
    for n, minute in enumerate((0, 5, 10)):
        clock.ms = office_time(f"2026-11-24 09:{minute:02d}")
        tokens[f"t{n}"] = desk.issue("permits", source="remote" if n == 2 else "kiosk").token
    clock.ms = office_time("2026-11-24 09:15")
    desk.open_counter("c1", staff="maria")
    clock.ms = office_time("2026-11-24 09:20")
    first = desk.call_next("c1", staff="maria")
    clock.ms = office_time("2026-11-24 09:30")
    desk.complete(first.id, staff="maria")  # type: ignore[union-attr]
    second = desk.call_ticket(
        "c1", desk.ticket_status(tokens["t1"]).id, reason="Needs an interpreter now", staff="maria"
    )
    clock.ms = office_time("2026-11-24 09:32")
    desk.no_show(second.id, staff="maria")
    clock.ms = office_time("2026-11-24 09:40")
    desk.cancel(tokens["t2"])
    clock.ms = office_time("2026-11-24 10:15")
    desk.close_counter("c1", staff="maria")
    return tokens


def test_known_answers(known_day: dict[str, str], store: EventStore, config: OfficeConfig) -> None:
    tables = build(store, config, DAY, DAY)
    (line,) = tables["lines"]
    assert (line["issued"], line["served"], line["no_shows"], line["left"]) == (3, 1, 1, 1)
    assert line["wait_median"] == 22.5  # waited 20 and 25 minutes
    assert line["wait_max"] == 25.0 and line["service_median"] == 10.0
    assert line["remote_share"] == round(1 / 3, 3)
    (counter,) = tables["counters"]
    assert (counter["open_minutes"], counter["busy_minutes"]) == (60, 10)
    assert [row["hour"] for row in tables["hours"]] == [9]
    audit = [row for row in tables["staff_actions"] if row["reason"]]
    assert audit[0]["staff"] == "maria" and audit[0]["reason"] == "Needs an interpreter now"


def test_open_data_names_no_one(
    known_day: dict[str, str], store: EventStore, config: OfficeConfig, tmp_path: Path
) -> None:
    write_report(build(store, config, DAY, DAY), config, tmp_path, "test")
    text = (tmp_path / "open_data.csv").read_text()
    assert not any(token in text for token in known_day.values())
    with (tmp_path / "open_data.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["issued_quarter_hour"] for row in rows] == ["09:00", "09:00", "09:00"]
    assert set(rows[0]) == {
        "day",
        "line",
        "issued_quarter_hour",
        "wait_minutes",
        "service_minutes",
        "outcome",
        "joined_by_phone",
    }
    for name in ("volume.png", "waits.png", "counters.png", "summary.pdf"):
        assert (tmp_path / name).stat().st_size > 1000


def test_purge_keeps_the_aggregates_and_no_personal_data(
    known_day: dict[str, str], store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    before = build(store, config, DAY, DAY)
    assert purge(store, config, DAY + timedelta(days=config.office.retention_days)) == 0
    purged = purge(store, config, DAY + timedelta(days=config.office.retention_days + 1))
    assert purged > 0
    after = build(store, config, DAY, DAY)
    assert after["lines"] == before["lines"] and after["counters"] == before["counters"]
    assert all(row["staff"] is None for row in after["staff_actions"]) or not after["staff_actions"]
    store.close()
    raw = b"".join(p.read_bytes() for p in store.path.parent.glob("office.sqlite*"))
    for token in known_day.values():
        assert token.encode() not in raw, "a token survived the purge somewhere in the file"
    assert b"maria" not in raw
    reopened = LocalService(EventStore(store.path), config, "hub", now=clock)
    clock.ms = office_time("2026-12-30 09:00")
    with pytest.raises(Expired):
        reopened.ticket_status(known_day["t0"])


def test_report_command_writes_the_files(
    known_day: dict[str, str], store: EventStore, tmp_path: Path
) -> None:
    from nowserving.system.paths import sample_config

    out = tmp_path / "report"
    code = main(
        [
            "--data",
            str(store.path.parent),
            "report",
            "--config",
            str(sample_config()),
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and (out / "summary.pdf").exists() and (out / "lines.csv").exists()
    assert (
        main(
            [
                "report",
                "--config",
                str(sample_config()),
                "--from",
                "24/11",
                "--to",
                "2026-11-24",
                "--out",
                str(out),
            ]
        )
        == 1
    )


def test_purge_also_strips_the_audit_of_refused_events(
    tmp_path: Path, config: OfficeConfig
) -> None:
    store = EventStore(tmp_path / "office.sqlite")
    token = "tok" + "x" * 30
    refused = Event(
        "e1", "kiosk-1~abc", 1, "001795000000000.000000.kiosk-1~abc", Kind.TICKET_ISSUED,
        DAY.isoformat(), "t1", "permits", "maria", {"number": 10**30, "token": token},
    )  # fmt: skip
    with store.write():
        store.keep_refused([(refused, "data.number: too large")])
    assert purge(store, config, DAY + timedelta(days=config.office.retention_days + 1)) == 1
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("office.sqlite*"))
    assert token.encode() not in raw and b"maria" not in raw


def test_exported_files_are_private(
    known_day: dict[str, str], store: EventStore, config: OfficeConfig, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    old = os.umask(0o022)
    try:
        written = write_report(build(store, config, DAY, DAY), config, out, "test")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {path.suffix for path in written} == {".csv", ".png", ".pdf"}
    assert {stat.S_IMODE(path.stat().st_mode) for path in written} == {0o600}


def test_the_audit_has_resumes_and_transfer_targets_and_charts_name_counters(
    known_day: dict[str, str], store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    from nowserving.store.reports import counter_utilisation

    desk = LocalService(store, config, "desk-1", now=clock)
    clock.ms = office_time("2026-11-24 10:20")
    moved = desk.issue("permits")
    desk.transfer(moved.id, "ids", keep_place=False, staff="maria")
    desk.pause_line("records", "Staff meeting", staff="maria")
    clock.ms = office_time("2026-11-24 10:40")
    desk.resume_line("records", staff="maria")
    tables = build(store, config, DAY, DAY)
    actions = {row["action"]: row for row in tables["staff_actions"]}
    transfer = actions["ticket.transferred"]
    assert (transfer["ticket"], transfer["line"], transfer["to_line"]) == (
        moved.label,
        "permits",
        "ids",
    )
    assert actions["line.resumed"]["line"] == "records"
    assert actions["line.resumed"]["time"] == "2026-11-24 10:40:00"
    assert list(counter_utilisation(tables, config)) == ["Counter 1"]  # a name, not c1


def test_a_simulated_day_reports_staff_actions(tmp_path: Path, config: OfficeConfig) -> None:
    """What `nowserving demo` fills its store with: the README promises staff_actions.csv."""
    from nowserving.cli.simulate import simulate_office

    store = EventStore(tmp_path / "office.sqlite")
    simulate_office(store, config, DAY, seed=1, arrivals=60)
    out = tmp_path / "report"
    write_report(build(store, config, DAY, DAY), config, out, "one day")
    store.close()
    with (out / "staff_actions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"line.paused", "line.resumed", "ticket.called"} <= {row["action"] for row in rows}
    assert all(row["staff"] for row in rows)


def test_service_levels_and_staff_figures(
    known_day: dict[str, str], store: EventStore, config: OfficeConfig
) -> None:
    target = ServiceLevel(within_minutes=22, percent=90)
    lines = [
        line.model_copy(update={"service_level": target}) if line.id == "permits" else line
        for line in config.lines
    ]
    tables = build(store, config.model_copy(update={"lines": lines}), DAY, DAY)
    (level,) = tables["service_levels"]  # called after 20 and 25 minutes
    assert (level["within"], level["late"], level["achieved_percent"], level["met"]) == (
        1,
        1,
        50.0,
        False,
    )
    assert tables["staff"] == [
        {"day": "2026-11-24", "staff": "maria", "served": 1, "handling_mean": 10.0}
    ]
