"""Residents' contacts and the outbox: each message written with the event that owes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import OverBudget, Rejected, StoreError
from nowserving.service.interface import Expired
from nowserving.service.local import LocalService
from nowserving.store import outbox
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock, office_time

PHONE = "+15105550147"


def notifying(config: OfficeConfig, **notify: Any) -> OfficeConfig:
    """The sample office with an SMS gateway and an SMTP server configured."""
    data = config.model_dump()
    data["notify"] = {
        "sms": {"url": "http://127.0.0.1:9/sms"},
        "email": {"host": "127.0.0.1", "port": 9},
        **notify,
    }
    return OfficeConfig.model_validate(data)


@pytest.fixture
def office(config: OfficeConfig) -> OfficeConfig:
    return notifying(config)


@pytest.fixture
def desk(store: EventStore, office: OfficeConfig, clock: FakeClock) -> LocalService:
    return LocalService(store, office, "desk-1", now=clock)


def rows(store: EventStore, ticket: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM outbox" + (" WHERE ticket = ?" if ticket else "") + " ORDER BY rowid"
    cursor = store.db.conn.execute(sql, (ticket,) if ticket else ())
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def kinds(store: EventStore, ticket: str) -> list[str]:
    return [r["key"].split(":")[1] for r in rows(store, ticket) if r["state"] == "pending"]


def test_subscribing_keeps_the_contact_and_queues_joined_in_the_residents_language(
    desk: LocalService, store: EventStore
) -> None:
    ticket = desk.issue("permits", lang="es")
    contacts = desk.subscribe(ticket.token, "sms", PHONE)
    assert [(c.channel, c.address) for c in contacts] == [("sms", PHONE)]
    joined, near = rows(store, ticket.id)
    assert (near["key"], near["state"], near["text"]) == (f"{ticket.id}:near::sms", "skipped", None)
    assert joined["masked"] == "•••• 0147"
    assert joined["text"].startswith("Está en la fila con el turno A-001")
    assert f"/t/{ticket.token}?lang=es" in joined["text"]
    # Nobody is ahead: "joined" said so, so no "near the front" follows.
    desk.open_counter("c2")
    assert kinds(store, ticket.id) == ["joined"]


def test_a_call_queues_one_message_per_channel_with_the_counter_in_their_language(
    desk: LocalService, store: EventStore
) -> None:
    ticket = desk.issue("permits", lang="zh")
    desk.subscribe(ticket.token, "sms", PHONE)
    desk.subscribe(ticket.token, "email", "mei@example.org")
    desk.open_counter("c1")
    with desk.request("desk-1", "call-once-0001"):
        desk.call_next("c1")
    with desk.request("desk-1", "call-once-0001"):  # a retry: the first answer, no new message
        desk.call_next("c1")
    called = [r for r in rows(store, ticket.id) if ":called:" in r["key"]]
    assert sorted(r["channel"] for r in called) == ["email", "sms"]
    sms = next(r for r in called if r["channel"] == "sms")
    assert sms["text"] == "号码 A-001：请现在到1号窗口办理。"
    email = next(r for r in called if r["channel"] == "email")
    assert email["text"].split("\n") == ["号码 A-001", sms["text"]]
    assert email["masked"] == "m•••@example.org"
    desk.recall(ticket.id)
    assert kinds(store, ticket.id)[-2:] == ["recalled", "recalled"]


def test_near_the_front_goes_out_once(
    desk: LocalService, store: EventStore, office: OfficeConfig
) -> None:
    tickets = [desk.issue("permits") for _ in range(6)]
    last = tickets[-1]  # five ahead, more than `near` (3)
    desk.subscribe(last.token, "sms", PHONE)
    desk.open_counter("c1")
    desk.call_next("c1")  # four ahead
    assert kinds(store, last.id) == ["joined"]
    desk.call_next("c1")  # three ahead: near
    desk.call_next("c1")  # two ahead: already told
    assert kinds(store, last.id) == ["joined", "near"]
    near = rows(store, last.id)[-1]["text"]
    assert near.startswith(f"Ticket A-006: {office.notify.near} ahead of you, about")


def test_a_pause_and_leaving_are_told_and_the_contact_goes_with_the_ticket(
    desk: LocalService, store: EventStore
) -> None:
    ticket = desk.issue("licenses", lang="vi")
    desk.subscribe(ticket.token, "sms", PHONE)
    desk.pause_line("licenses", "lunch")
    assert desk.text_reply(PHONE, "roi", "gw-leave-1") == "leave"  # LEAVE, in Vietnamese
    assert kinds(store, ticket.id) == ["joined", "paused", "left"]
    paused = next(r for r in rows(store, ticket.id) if ":paused:" in r["key"])
    assert paused["text"] == (
        "Số B-001: dịch vụ này đang tạm dừng (Nghỉ trưa, sẽ quay lại sớm). "
        "Quý vị vẫn giữ chỗ trong hàng."
    )
    assert desk.contacts(ticket.token) == []  # gone with the ticket; its last message stays
    with pytest.raises(Rejected, match="no longer in line"):
        desk.subscribe(ticket.token, "sms", PHONE)


def test_answers_by_text_are_bounded_whatever_the_message_ids(
    desk: LocalService, store: EventStore, clock: FakeClock
) -> None:
    ticket = desk.issue("licenses")
    desk.subscribe(ticket.token, "sms", PHONE)
    for n in range(3):  # a spoofed sender, again and again
        assert desk.text_reply(PHONE, "STATUS", f"gw-s-{n}") == "status"
        assert desk.text_reply(PHONE, "hello?", f"gw-h-{n}") == "help"
    clock.advance(minutes=1)
    assert desk.text_reply(PHONE, "STATUS", "gw-s-3") == "status"
    assert kinds(store, ticket.id) == ["joined", "status", "help", "status"]


def test_serving_forgets_the_contact_and_unsubscribing_drops_what_is_unsent(
    desk: LocalService, store: EventStore
) -> None:
    first, second = desk.issue("permits"), desk.issue("permits")
    desk.subscribe(first.token, "email", "ana@example.org")
    desk.subscribe(second.token, "sms", PHONE)
    desk.open_counter("c1")
    desk.call_next("c1")
    desk.complete(first.id)
    assert desk.contacts(first.token) == []
    assert desk.unsubscribe(second.token) == []
    assert kinds(store, second.id) == []  # "joined" and "near" were never sent: dropped
    assert all(r["address"] is None for r in rows(store, second.id))


def test_no_contact_without_a_channel(service: LocalService) -> None:
    ticket = service.issue("permits")
    with pytest.raises(Rejected, match="no text messages"):
        service.subscribe(ticket.token, "sms", PHONE)


def test_a_failed_commit_leaves_neither_event_nor_message(
    tmp_path: Path, office: OfficeConfig, clock: FakeClock
) -> None:
    store = EventStore(tmp_path / "small.sqlite", max_pages=60)
    desk = LocalService(store, office, "desk-1", now=clock)
    ticket = desk.issue("permits")
    desk.subscribe(ticket.token, "sms", PHONE)
    desk.open_counter("c1")
    pages = store.db.conn.execute("PRAGMA page_count").fetchone()[0]
    store.db.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StoreError):
        for _ in range(200):  # fills the file: one of these writes fails and is rolled back
            desk.pause_line("permits", "lunch")
            desk.resume_line("permits")
    assert desk.state.tickets[ticket.id].status.value == "waiting"
    kept = {r["key"] for r in rows(store, ticket.id)}
    paused_events = {
        row[0] for row in store.db.conn.execute("SELECT id FROM events WHERE kind = 'line.paused'")
    }
    assert {k.split(":")[2] for k in kept if ":paused:" in k} == paused_events
    store.close()


def test_the_purge_drops_earlier_days_contacts_and_unsent_messages(
    desk: LocalService, store: EventStore
) -> None:
    ticket = desk.issue("permits")
    desk.subscribe(ticket.token, "sms", PHONE)
    with store.write():
        removed = outbox.purge(store, "2026-11-25", "2026-10-26")
    assert removed == 3  # the contact, the unsent "joined" and the day's count of the number
    # What is left names nobody; it goes once past the retention window.
    assert [(r["address"], r["text"]) for r in rows(store)] == [(None, None)]
    with store.write():
        assert outbox.purge(store, "2026-11-25", "2026-11-25") == 1
    assert desk.contacts(ticket.token) == [] and rows(store) == []


def test_the_day_turning_between_two_looks_gives_a_clear_answer_not_a_key_error(
    desk: LocalService, store: EventStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscribing and a text reply each look up the ticket, then write: midnight may
    pass in between. The injected clock crosses it just as the write begins."""
    clock.ms = office_time("2026-11-24 23:59")
    first = desk.issue("permits")
    desk.subscribe(first.token, "sms", PHONE)
    late = desk.issue("permits")
    desk.refresh()  # the service has seen the day with both tickets
    writing = store.write

    @contextmanager
    def crossing_midnight() -> Iterator[None]:
        clock.ms = max(clock.ms, office_time("2026-11-25 00:00") + 1)
        with writing():
            yield

    monkeypatch.setattr(store, "write", crossing_midnight)
    with pytest.raises(Expired, match="This ticket was for 2026-11-24"):
        desk.subscribe(late.token, "sms", "+15105550148")
    # Yesterday's ticket ended with its day: the reply is answered like a stranger's.
    assert desk.text_reply(PHONE, "STATUS", "m1") == "unknown"
    assert desk.text_reply(PHONE, "LEAVE", "m2") == "unknown"
    assert [r["key"].split(":")[1] for r in rows(store)] == ["joined", "near"]


def test_a_reroute_and_the_end_of_the_day_are_told_in_the_residents_language(
    desk: LocalService, store: EventStore
) -> None:
    moved = desk.issue("records", lang="es")
    desk.subscribe(moved.token, "sms", PHONE)
    desk.reroute_line("records", "ids")
    rerouted = rows(store, moved.id)[-1]
    assert rerouted["key"].split(":")[1] == "rerouted"
    assert "Tarjetas de identificación" in rerouted["text"]
    desk.end_day()
    closed = rows(store, moved.id)[-1]
    assert closed["key"].split(":")[1] == "closed"
    assert closed["text"].startswith("Turno C-001: la oficina cerró por hoy")
    assert desk.contacts(moved.token) == []  # the ticket ended with the day


def test_late_by_text_moves_the_resident_back_once_as_an_event(
    desk: LocalService, store: EventStore
) -> None:
    late, *others = (desk.issue("permits") for _ in range(5))
    desk.subscribe(late.token, "sms", PHONE)
    with desk.request("sms-gateway", "gw-late-0001"):
        assert desk.text_reply(PHONE, "Late!", "gw-late-0001") == "late"
    with desk.request("sms-gateway", "gw-late-0001"):  # the gateway retried: once
        assert desk.text_reply(PHONE, "Late!", "gw-late-0001") == "late"
    order = [t.id for t in desk.queue_for_line("permits")]
    assert order == [*(t.id for t in others[:3]), late.id, others[3].id]
    events = store.db.conn.execute("SELECT data FROM events WHERE kind = 'ticket.late'")
    assert [row[0] for row in events] == ['{"places":3,"request":"sms-gateway/gw-late-0001"}']
    assert desk.text_reply(PHONE, "late", "gw-late-0002") == "late"
    assert kinds(store, late.id)[-2:] == ["late", "late_again"]
    texts = [r["text"] for r in rows(store, late.id)[-2:]]
    assert texts[0].startswith("Ticket A-001: you moved back a few places. 3 ahead of you")
    assert texts[1].startswith("Ticket A-001: you have already moved back once.")


def test_text_to_join_follows_the_join_pages_rules_and_the_numbers_daily_cap(
    store: EventStore, office: OfficeConfig, clock: FakeClock
) -> None:
    data = office.model_dump()
    data["notify"]["tickets_per_address"] = 2
    data["lines"][-1]["keyword"] = "IDCARD"  # ids: no remote joining
    desk = LocalService(store, OfficeConfig.model_validate(data), "hub", now=clock)
    assert desk.text_reply(PHONE, "permits", "gw-join-1") == "joined"
    (ticket,) = desk.queue_for_line("permits")
    assert ticket.source == "remote"
    (joined,) = rows(store, ticket.id)[:1]
    assert (
        joined["text"].startswith("You are in line with ticket A-001") and "/t/" in joined["text"]
    )
    assert desk.text_reply(PHONE, "IDCARD", "gw-join-2") == "refused"
    desk.pause_line("permits", "lunch")
    assert desk.text_reply(PHONE, "Permits", "gw-join-3") == "refused"
    desk.resume_line("permits")
    assert desk.text_reply(PHONE, "PERMITS", "gw-join-4") == "joined"
    assert desk.text_reply(PHONE, "PERMITS", "gw-join-5") == "refused"  # a third today
    answers = [r["text"] for r in rows(store) if r["ticket"] == ""]
    assert answers == [
        "Resident ID cards cannot be joined by text message. Please come to the office.",
        "Building permits is paused for now. Please try again later.",
        "This number has taken as many tickets as it may today.",
    ]
    assert desk.text_reply("+15105559999", "hello", "gw-join-6") == "unknown"


def test_a_number_is_refused_by_text_once_a_day_past_its_cap_and_once_an_hour_otherwise(
    store: EventStore, office: OfficeConfig, clock: FakeClock
) -> None:
    data = office.model_dump()
    data["notify"]["tickets_per_address"] = 1
    desk = LocalService(store, OfficeConfig.model_validate(data), "hub", now=clock)
    assert desk.text_reply(PHONE, "permits", "gw-cap-1") == "joined"
    for n in range(2, 5):  # a spoofed sender, or a stranger's number, again and again
        assert desk.text_reply(PHONE, "permits", f"gw-cap-{n}") == "refused"
    desk.pause_line("permits", "lunch")
    for n in range(5, 8):
        assert desk.text_reply("+15105550199", "permits", f"gw-cap-{n}") == "refused"
    clock.advance(minutes=60)
    assert desk.text_reply("+15105550199", "permits", "gw-cap-8") == "refused"
    answers = [r["text"] for r in rows(store) if r["ticket"] == ""]
    assert answers == [
        "This number has taken as many tickets as it may today.",
        "Building permits is paused for now. Please try again later.",
        "Building permits is paused for now. Please try again later.",  # an hour later
    ]


def test_one_address_is_kept_for_a_few_tickets_a_day_at_most(
    desk: LocalService, office: OfficeConfig
) -> None:
    tickets = [desk.issue("permits") for _ in range(office.notify.tickets_per_address + 1)]
    for ticket in tickets[:-1]:
        desk.subscribe(ticket.token, "email", "ana@example.org")
    desk.subscribe(tickets[0].token, "email", "Ana@Example.org")  # the same ticket again: fine
    with pytest.raises(Rejected, match="as many tickets as it may today") as refused:
        desk.subscribe(tickets[-1].token, "email", "ana@example.org")
    assert refused.value.code == "address_cap"
    with pytest.raises(Rejected, match="as many tickets"):  # the same inbox, tagged
        desk.subscribe(tickets[-1].token, "email", "ana+queue7@example.org")
    assert desk.contacts(tickets[-1].token) == []


def test_a_kiosk_leaves_a_number_only_for_its_own_ticket_and_only_for_a_few_minutes(
    store: EventStore, office: OfficeConfig, clock: FakeClock
) -> None:
    kiosk = LocalService(store, office, "kiosk-1", now=clock)
    other = LocalService(store, office, "kiosk-2", now=clock)
    ticket = kiosk.issue("permits")
    with pytest.raises(Rejected) as refused:
        other.subscribe_issued(ticket.token, "+1 510 555 0147")
    assert refused.value.code == "not_issued_here"
    with pytest.raises(Rejected) as refused:
        kiosk.subscribe_issued(ticket.token, "555-0147")
    assert refused.value.code == "bad_phone"
    assert kiosk.subscribe_issued(ticket.token, "+1 510 555 0147") == "•••• 0147"
    assert [c.address for c in kiosk.contacts(ticket.token)] == [PHONE]
    late = kiosk.issue("permits")
    clock.advance(minutes=6)
    with pytest.raises(Rejected) as refused:
        kiosk.subscribe_issued(late.token, PHONE)
    assert refused.value.code == "kiosk_too_late"


def test_past_the_days_sms_budget_new_numbers_are_refused_and_subscribed_ones_still_told(
    store: EventStore, office: OfficeConfig, clock: FakeClock
) -> None:
    data = office.model_dump()
    data["notify"]["sms_per_day"] = 2  # two "joined" texts spend it
    desk = LocalService(store, OfficeConfig.model_validate(data), "hub", now=clock)
    first, second, third = (desk.issue("permits") for _ in range(3))
    desk.subscribe(first.token, "sms", "+15105550001")
    desk.subscribe(second.token, "sms", "+15105550002")
    with pytest.raises(OverBudget) as refused:
        desk.subscribe(third.token, "sms", "+15105550003")
    assert refused.value.code == "sms_budget" and desk.contacts(third.token) == []
    desk.subscribe(third.token, "email", "ana@example.org")  # e-mail is not counted
    assert desk.text_reply("+15105550004", "PERMITS", "gw-budget-1") == "refused"
    assert len(desk.queue_for_line("permits")) == 3  # no ticket without its link
    desk.open_counter("c1")
    desk.call_next("c1")
    assert "called" in kinds(store, first.id)  # a called resident is never left untold


def test_a_replaced_number_gets_its_own_joined_and_the_same_number_again_does_not(
    desk: LocalService, store: EventStore
) -> None:
    ticket = desk.issue("permits")
    desk.subscribe(ticket.token, "sms", PHONE)
    desk.subscribe(ticket.token, "sms", PHONE)  # a retry
    desk.subscribe(ticket.token, "sms", "+15105550148")  # a typo, corrected
    joined = [r for r in rows(store, ticket.id) if ":joined:" in r["key"]]
    assert [r["masked"] for r in joined] == ["•••• 0147", "•••• 0148"]
    assert "5550147" not in joined[0]["key"]  # the key names no number
