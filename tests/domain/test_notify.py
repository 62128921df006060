"""Residents' contacts: what is accepted, what staff see, what a reply asks."""

from __future__ import annotations

import json

import pytest

from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Kind
from nowserving.domain.notify import (
    command,
    mask,
    normalize_email,
    normalize_phone,
    normalize_push,
    notices,
)
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
    assert command("salir", words) == "leave"
    assert command("  Estado? ", words) == "status"
    assert command("离开", words) == "leave"
    assert command("leave now please", words) == "leave"
    assert command("where am I", words) == "help"
    assert command("", words) == "help"


P256DH = "B" + "A" * 86  # 65 bytes: 0x04 and a point (the check is on the form, not the curve)
AUTH = "A" * 22  # 16 bytes


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", False),  # not https
        ("https://192.168.1.20/push", False),  # the office LAN, by address
        ("https://[::1]/push", False),
        ("https://router/push", False),  # a single-label LAN name
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
