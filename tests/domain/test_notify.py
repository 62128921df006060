"""Residents' contacts: what is accepted, what staff see, what a reply asks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from nowserving.domain import rules
from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import Rejected
from nowserving.domain.events import Event, Kind
from nowserving.domain.notify import (
    Notice,
    before,
    command,
    mask,
    normalize_email,
    normalize_phone,
    normalize_push,
    notices,
    render,
    show_phone,
)
from nowserving.system import i18n
from tests.domain.builders import Log


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("+1 (510) 555-0147", "+15105550147"),
        ("0049 30 1234 5678", "+493012345678"),
        (" +44.20.7946.0958 ", "+442079460958"),
    ],
)
def test_phone_numbers_are_kept_in_international_form(typed: str, kept: str) -> None:
    assert normalize_phone(typed) == kept


@pytest.mark.parametrize("typed", ["555-0147", "+0 510 555 0147", "+1 510", "+1" + "5" * 15, ""])
def test_what_is_not_a_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="international form"):
        normalize_phone(typed)


@pytest.mark.parametrize(
    ("typed", "country", "kept"),
    [
        ("510 555-0147", "1", "+15105550147"),
        ("1 510 555 0147", "1", "+15105550147"),  # NANP's trunk "1"
        ("030 1234 5678", "49", "+493012345678"),  # one trunk "0" goes
        ("06 1234 5678", "39", "+390612345678"),  # Italy keeps its "0"
        ("0034 612 345 678", "1", "+34612345678"),  # "00": another country, as typed
        ("+44 20 7946 0958", "34", "+442079460958"),
    ],
)
def test_a_number_without_plus_is_national_to_the_offices_country(
    typed: str, country: str, kept: str
) -> None:
    assert normalize_phone(typed, country) == kept


def test_without_a_country_code_a_number_without_plus_is_refused() -> None:
    with pytest.raises(ValueError, match="international form"):
        normalize_phone("510 555 0147")


def test_numbers_are_shown_as_residents_read_them() -> None:
    assert show_phone("+15105550147", "1") == "+1 510 555 0147"
    assert show_phone("+34612345678", "34") == "+34 612 345 678"
    assert show_phone("+34612345678", "1") == "+34612345678"  # another country: one piece


def test_e_mail_addresses_are_bounded_and_checked() -> None:
    assert normalize_email(" ana.b+q@mail.example.org ") == "ana.b+q@mail.example.org"
    for typed in ("ana@localhost", "ana example.org", "a@b@example.org", "a" * 65 + "@x.org"):
        with pytest.raises(ValueError, match="e-mail address"):
            normalize_email(typed)


def test_staff_see_only_a_masked_address() -> None:
    assert mask("+15105550147") == "•••• 0147"
    assert mask("ana@example.org") == "a•••@example.org"


def test_a_reply_is_read_in_any_of_its_words() -> None:
    words = {"leave": {"LEAVE", "SALIR", "离开"}, "status": {"STATUS", "ESTADO"}}
    assert command("salir", words, "help") == "leave"
    assert command("  Estado? ", words, "help") == "status"
    assert command("离开", words, "help") == "leave"
    assert command("leave now please", words, "help") == "leave"
    assert command("where am I", words, "help") == "help"
    assert command("", words, "help") == "help"


def told(config: OfficeConfig, log: Log, kind: Kind, **fields: Any) -> list[tuple[str, str]]:
    """What the event (added to `log`) owes residents: (ticket, kind of message) pairs."""
    probe = Event("probe", "test", 0, "", kind, None, ticket=fields.get("ticket"))
    was = before(log.state, [probe])
    event = log.add(kind, **fields)
    lines = [line.id for line in config.lines]
    return [(n.ticket, n.kind) for n in notices(config, was, log.state, [event], lines, 1)]


def test_a_reroute_tells_those_it_moved_which_line_serves_them_now(config: OfficeConfig) -> None:
    log = Log()
    moved, there = log.issue("records"), log.issue("ids")
    found = told(config, log, Kind.LINE_REROUTED, day=None, line="records", to_line="ids")
    assert ("records-1", "rerouted") in found and (there, "rerouted") not in found
    notice = Notice(moved, "rerouted", "e2", {"label": "C-001", "line": "ids"})
    assert "ID cards" in render(config, notice, "en", i18n.text)  # the line, in their words
    assert "居民身份卡" in render(config, notice, "zh", i18n.text)


def test_closing_the_day_tells_only_those_still_waiting(config: OfficeConfig) -> None:
    log = Log()
    waiting, called = log.issue("payments"), log.issue("payments")
    log.call(called, "c6")
    assert told(config, log, Kind.DAY_ENDED) == [(waiting, "closed")]


def test_near_the_front_is_one_message_whatever_event_brings_it(config: OfficeConfig) -> None:
    log = Log()
    *_, third = (log.issue("permits") for _ in range(3))
    assert (third, "near") not in told(config, log, Kind.COUNTER_OPENED, counter="c1")
    keys = set()
    for _ in range(2):  # each call brings the third nearer; the message's key stays the same
        found = told(
            config,
            log,
            Kind.TICKET_CALLED,
            ticket=log.state.waiting("permits")[0].id,
            line="permits",
            counter="c1",
        )
        keys |= {Notice(t, k).key("sms") for t, k in found if t == third and k == "near"}
    assert keys == {f"{third}:near::sms"}


def test_leaving_is_confirmed_only_when_it_was_asked_by_text(config: OfficeConfig) -> None:
    log = Log()
    by_page, by_text = log.issue("permits"), log.issue("permits")
    assert (by_page, "left") not in told(
        config, log, Kind.TICKET_LEFT, ticket=by_page, line="permits"
    )
    found = told(config, log, Kind.TICKET_LEFT, ticket=by_text, line="permits", via="sms")
    assert found == [(by_text, "left")]


def test_late_moves_a_resident_back_a_few_places_once() -> None:
    log = Log()
    late, *others = (log.issue("permits") for _ in range(5))
    log.on(Kind.TICKET_LATE, late, places=3)
    assert [t.id for t in log.state.waiting("permits")] == [*others[:3], late, others[3]]
    assert log.state.ahead(log.state.tickets[late]) == 3
    log.on(Kind.TICKET_LATE, late, places=3)  # a second one (by sync) changes nothing
    assert log.state.conflicts[-1].reason == "A-001 has already moved back once"
    assert log.state.ahead(log.state.tickets[late]) == 3


def test_late_with_few_behind_goes_to_the_end_and_priority_stays_among_priority() -> None:
    log = Log()
    vip, other_vip, ordinary = (
        log.issue("permits", priority=True),
        log.issue("permits", priority=True),
        log.issue("permits"),
    )
    log.on(Kind.TICKET_LATE, vip, places=3)
    # Only one priority resident was behind: the late one goes right after them.
    assert log.state.tickets[vip].queue_key > log.state.tickets[other_vip].queue_key
    assert log.state.ahead(log.state.tickets[vip]) == 1  # priority still goes first
    assert log.state.ahead(log.state.tickets[ordinary]) == 2


def test_late_is_decided_once_and_only_while_waiting(config: OfficeConfig) -> None:
    log = Log()
    late, called = log.issue("permits"), log.issue("permits")
    draft = rules.decide_late(log.state, late, 3)
    assert (draft.kind, draft.data) == (Kind.TICKET_LATE, {"places": 3})
    log.on(Kind.TICKET_LATE, late, places=3)
    with pytest.raises(Rejected) as again:
        rules.decide_late(log.state, late, 3)
    assert again.value.code == "already_late"
    log.call(called, "c1")
    with pytest.raises(Rejected, match="called"):
        rules.decide_late(log.state, called, 3)


def test_a_line_keyword_is_checked_unique_and_never_a_reply_word(config: OfficeConfig) -> None:
    data = config.model_dump()
    data["lines"][0]["keyword"] = "PERMITS"
    assert OfficeConfig.model_validate(data).lines[0].keyword == "PERMITS"
    for keyword, problem in (("LATE", "reply word"), ("permits", "pattern"), ("P", "pattern")):
        data["lines"][0]["keyword"] = keyword
        with pytest.raises(ValidationError, match=problem):
            OfficeConfig.model_validate(data)
    data["lines"][0]["keyword"] = data["lines"][1]["keyword"] = "SAME"
    with pytest.raises(ValidationError, match="keyword"):
        OfficeConfig.model_validate(data)


def test_a_text_naming_a_line_keyword_finds_that_line() -> None:
    keywords = {"permits": {"PERMITS"}, "ids": {"IDCARD"}}
    assert command("permits please", keywords, "") == "permits"
    assert command("status", keywords, "") == ""


# A browser's p256dh: 0x04 and a point on P-256 (65 bytes).
P256DH = "BOlal34iRLFlFQ80CWXYqt2Lr6PZeKho9-WOrVpNNEcuwmhonWL_UtUp4oDH1LjMWqw4fVMSIFto7bEA0WOtuyk"
AUTH = "A" * 22  # 16 bytes


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", False),  # not https
        ("https://192.168.1.20/push", False),  # the office LAN, by address
        ("https://[::1]/push", False),
        ("https://router/push", False),  # a single-label LAN name
        ("https://127.1/push", False),  # short and hex forms the resolver reads as addresses
        ("https://10.1/push", False),
        ("https://0x7f.0.0.1/push", False),
        ("https://push.example.org:22/x", False),  # push services listen on 443 only
        ("https://push.example.org/a\x01b", False),  # what the HTTP client would refuse
        ("https://push.example.org/a b", False),
        ("https://xn--zz.example.org/x", False),
        ("https://push..example.org/x", False),
        ("https://user:pw@push.example.org/x", False),
        ("https://push.example.org/" + "x" * 1000, False),
        ("http://127.0.0.1:8000/push", False),  # loopback only with the tests' flag
        ("http://10.0.0.1:8000/push", True),  # and even then only loopback
    ],
)
def test_a_push_endpoint_must_be_a_public_https_push_service(endpoint: str, loopback: bool) -> None:
    with pytest.raises(ValueError, match="https://"):
        normalize_push(endpoint, P256DH, AUTH, loopback_http=loopback)


def test_a_push_subscription_is_kept_whole_and_shown_by_its_service_only() -> None:
    endpoint = "https://fcm.googleapis.com/fcm/send/abc:def"
    kept = normalize_push(endpoint, P256DH, AUTH)
    assert json.loads(kept) == {"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}}
    assert mask(kept) == "•••• fcm.googleapis.com"
    assert normalize_push("http://127.0.0.1:9/p", P256DH, AUTH, loopback_http=True)
    with pytest.raises(ValueError, match="p256dh"):
        normalize_push(endpoint, "C" + "A" * 86, AUTH)  # not an uncompressed point
    with pytest.raises(ValueError, match="p256dh"):
        normalize_push(endpoint, "B" + "A" * 86, AUTH)  # 0x04 and 64 bytes, not on the curve
    with pytest.raises(ValueError, match="auth"):
        normalize_push(endpoint, P256DH, AUTH * 2)


def test_a_batch_pushed_late_speaks_only_of_what_still_holds(config: OfficeConfig) -> None:
    """A desk cut off for a while pushes its day at once: a call since repeated, a pause
    since lifted and yesterday's events owe nothing; the call that holds is told."""
    log = Log()
    again, served, waiting = (log.issue("permits") for _ in range(3))
    before = {t.id: t.status for t in log.state.tickets.values()}
    start = len(log.events)
    first_call = log.call(again, "c1")
    log.on(Kind.TICKET_NO_SHOW, again)
    log.on(Kind.TICKET_RETURNED, again)
    second_call = log.call(again, "c2")
    log.call(served, "c1")
    log.on(Kind.TICKET_SERVED, served)
    log.add(Kind.LINE_PAUSED, line="permits", reason="lunch")
    log.add(Kind.LINE_RESUMED, line="permits")
    log.add(Kind.TICKET_CALLED, day="2026-11-23", ticket=waiting, line="permits", counter="c3")
    found = notices(config, before, log.state, log.events[start:], [], near=0)
    assert [(n.ticket, n.kind, n.event) for n in found] == [(again, "called", second_call.id)]
    assert first_call.id != second_call.id
