"""The local service: whole flows over a real store, with a clock moved by hand."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.state import Status, Ticket, replay
from nowserving.service.interface import Expired
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock, office_time


def test_numbers_count_per_line_with_the_prefix(service: LocalService) -> None:
    labels = [service.issue(line).label for line in ("permits", "permits", "licenses", "permits")]
    assert labels == ["A-001", "A-002", "B-001", "A-003"]


def test_the_ticket_is_committed_before_issue_returns(
    service: LocalService, store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    ticket = service.issue("payments", lang="es")
    other = LocalService(EventStore(store.path), config, "display-1", now=clock)
    assert other.ticket_status(ticket.token).label == "D-001"
    assert other.ticket_status(ticket.token).lang == "es"


def test_a_day_of_service(service: LocalService, clock: FakeClock) -> None:
    service.open_counter("c1", staff="maria")
    first, second = service.issue("permits"), service.issue("permits", priority=True)
    assert service.ticket_status(first.token).ahead == 1  # the priority resident goes first
    called = service.call_next("c1", staff="maria")
    assert called is not None and called.id == second.id and called.counter == "c1"
    clock.advance(minutes=6)
    assert service.complete(second.id).status is Status.SERVED
    again = service.call_next("c1")
    assert again is not None and again.id == first.id
    service.recall(first.id)
    board = service.board()
    assert [(c.label, c.counter, c.recall) for c in board.calls[:2]] == [
        ("A-001", "c1", True),
        ("A-001", "c1", False),
    ]
    assert service.no_show(first.id).status is Status.NO_SHOW
    assert service.return_no_show(first.id).status is Status.WAITING
    assert service.call_next("c1") is not None
    assert service.call_next("c5") is None  # nobody waiting for ID cards


def test_a_counter_only_calls_its_own_lines(service: LocalService) -> None:
    service.issue("records")
    assert service.call_next("c1") is None
    assert service.call_next("c4") is not None


def test_transfer_and_cancel(service: LocalService) -> None:
    ticket = service.issue("permits")
    moved = service.transfer(ticket.id, "licenses", keep_place=False)
    assert moved.line == "licenses" and moved.transferred_from == "permits"
    with pytest.raises(Rejected, match="already in that line"):
        service.transfer(ticket.id, "licenses")
    assert service.cancel(ticket.token).status is Status.LEFT
    with pytest.raises(Rejected, match="is left"):
        service.cancel(ticket.token)


def test_line_control_is_seen_by_new_tickets(service: LocalService) -> None:
    paused = service.pause_line("permits", "Inspector training until 11:00")
    assert paused.paused and paused.pause_reason == "Inspector training until 11:00"
    with pytest.raises(Rejected, match="Inspector training"):
        service.issue("permits")
    service.resume_line("permits")
    service.reroute_line("records", "ids")
    rerouted = service.issue("records")
    assert rerouted.line == "ids" and rerouted.label == "E-001"
    service.end_reroute("records")
    assert service.issue("records").label == "C-001"


def test_announcement_and_alerts_reach_the_board(service: LocalService) -> None:
    service.set_announcement({"en": "Closing at 4 pm today", "es": "Cerramos a las 4 pm"})
    service.report_alert("printer", "Out of paper")
    board = service.board()
    assert board.announcement["es"] == "Cerramos a las 4 pm"
    assert [(a.device, a.message) for a in board.alerts] == [("desk-1", "Out of paper")]
    service.report_alert("printer", "")
    assert service.board().alerts == []


def test_unknown_tokens_and_tickets(service: LocalService) -> None:
    with pytest.raises(NotFound, match="not known"):
        service.ticket_status("no-such-token")
    with pytest.raises(NotFound):
        service.complete("nope")


def test_numbers_restart_at_local_midnight_and_old_tickets_expire(
    service: LocalService, clock: FakeClock
) -> None:
    clock.ms = office_time("2026-11-24 23:59")
    late = service.issue("permits")
    service.issue("permits")
    clock.ms = office_time("2026-11-25 00:01")
    assert service.issue("permits").label == "A-001"
    with pytest.raises(Expired, match="2026-11-24"):
        service.ticket_status(late.token)
    assert service.board().day == "2026-11-25"


@pytest.mark.parametrize(
    ("before", "after"),
    [("2026-03-08 01:30", "2026-03-08 03:30"), ("2026-11-01 00:30", "2026-11-01 01:30")],
)
def test_daylight_saving_changes_keep_the_day(
    service: LocalService, clock: FakeClock, before: str, after: str
) -> None:
    clock.ms = office_time(before)
    service.issue("ids")
    clock.ms = office_time(after)
    assert service.issue("ids").label == "E-002"


def test_end_of_day_closes_the_kiosk(service: LocalService) -> None:
    ticket = service.issue("ids")
    service.end_day(staff="maria")
    assert service.ticket_status(ticket.token).status is Status.EXPIRED
    with pytest.raises(Rejected, match="closed for today"):
        service.issue("ids")


def test_the_wait_estimate_grows_with_the_line(service: LocalService) -> None:
    service.open_counter("c5")
    tickets = [service.issue("ids") for _ in range(6)]
    last = service.ticket_status(tickets[-1].token)
    assert last.ahead == 5
    assert last.wait.known and 0 < last.wait.low < 50 < last.wait.high  # 5 x 10 min, 1-2 counters


def test_another_process_sees_changes_through_refresh(
    service: LocalService, store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    display = LocalService(EventStore(store.path), config, "display-1", now=clock)
    display.refresh()
    assert not display.refresh()
    service.issue("permits")
    assert display.refresh()
    assert display.board().lines[0].waiting == 1


def test_two_desks_calling_at_once_never_get_the_same_resident(
    tmp_path: Path, config: OfficeConfig
) -> None:
    path = tmp_path / "office.sqlite"
    kiosk = LocalService(EventStore(path), config, "kiosk-1")
    for _ in range(80):
        kiosk.issue("licenses")
    desks = [LocalService(EventStore(path), config, f"desk-{n}") for n in (1, 2)]
    got: dict[str, list[str]] = {"c2": [], "c3": []}
    start = threading.Barrier(2)

    def work(desk: LocalService, counter: str) -> None:
        start.wait()
        while (ticket := desk.call_next(counter)) is not None:
            got[counter].append(ticket.id)
            time.sleep(0.001)  # let the other desk's thread in, as two real clerks would

    threads = [threading.Thread(target=work, args=(d, c)) for d, c in zip(desks, got, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everyone = got["c2"] + got["c3"]
    assert len(everyone) == len(set(everyone)) == 80
    assert got["c2"] and got["c3"]  # both desks took part


def test_a_late_event_rebuilds_the_day_in_clock_order(
    service: LocalService, store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    # An offline kiosk's events arrive after newer ones: the state must be as if in order.
    offline_store = EventStore(store.path.with_name("offline.sqlite"))
    skewed = FakeClock(clock.ms - 60_000)
    offline = LocalService(offline_store, config, "kiosk-2", now=skewed)
    early = offline.issue("permits")
    service.issue("permits")
    with store.write():
        store.merge([event for _, event in offline_store.events_after(0)])
    service.refresh()
    waiting = service.state.waiting("permits")
    assert waiting[0].id == early.id
    expected = replay(service.state.day, store.events_for_day(service.state.day))
    assert service.state.tickets == expected.tickets


def test_a_day_that_ends_leaves_nothing_of_itself_in_memory(
    service: LocalService, clock: FakeClock
) -> None:
    # The soak benchmark counts on this: today's tickets are data, kept only for today.
    def tickets_alive() -> int:
        gc.collect()
        return sum(type(o) is Ticket for o in gc.get_objects())

    before = tickets_alive()  # another test's may still be about
    for _day in range(3):
        for _ in range(50):
            service.issue("permits")
            service.call_next("c1")
        assert tickets_alive() == before + 50
        clock.advance(minutes=24 * 60)
        service.board()  # the next day's first read drops the last one
        assert tickets_alive() == before


def test_waiting_count_counts_by_source_without_building_views(service: LocalService) -> None:
    for source in ("remote", "kiosk", "remote"):
        service.issue("payments", source=source)
    service.open_counter("c1")
    service.call_next("c1")  # the first remote one, if c1 serves payments; else nobody

    remote = [t for t in service.queue_for_line("payments") if t.source == "remote"]
    assert service.remote_joins_waiting("payments") == len(remote)
    assert service.waiting_count("payments") == len(service.queue_for_line("payments"))


def test_ticket_statuses_reads_many_at_once_as_one_by_one(service: LocalService) -> None:
    tokens = [service.issue(line).token for line in ("permits", "ids", "permits")]
    service.open_counter("c1")
    service.call_next("c1")

    views = service.ticket_statuses([*tokens, "not-a-token"])

    assert views == {token: service.ticket_status(token) for token in tokens}


def test_a_desk_hears_only_of_its_own_actions_that_did_not_count(
    service: LocalService, store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    from dataclasses import replace

    from nowserving.domain.clock import Stamp
    from nowserving.domain.events import Event, Kind

    service.issue("permits")
    clock.advance(minutes=1)
    assert service.call_next("c1") is not None
    assert service.conflicts_lost() == []
    (call,) = [e for _, e in store.events_after(0) if e.kind is Kind.TICKET_CALLED]
    # Another desk, cut off, called the same resident a moment earlier: its call wins.
    other = "desk-2~cut0ff"
    earlier = replace(
        call,
        id="earlier0call",
        device=other,
        seq=1,
        hlc=Stamp(call.stamp.wall - 100, 0, other).encode(),
        data={"counter": "c2"},
    )
    with store.write():
        store.merge([Event.from_row(earlier.to_row())])
    (lost,) = service.conflicts_lost()
    assert lost.event_id == call.id
    assert LocalService(EventStore(store.path), config, other, now=clock).conflicts_lost() == []
    assert service.conflicts_lost(recent=0) == []


def test_what_the_staff_screens_read_besides_the_board(
    service: LocalService, store: EventStore
) -> None:
    assert service.hub_link() is None  # the hub's own store: no link to lose
    assert service.store_path() == str(store.path)
    assert service.day_figures().tables.get("lines", []) == []
    assert service.day_figures().chart_png == b""
    service.issue("permits")
    service.issue("licenses")
    figures = service.day_figures()
    assert sorted(row["line"] for row in figures.tables["lines"]) == ["licenses", "permits"]
    assert figures.chart_png.startswith(b"\x89PNG")
