"""Residents' contacts: what is accepted, what staff see, what a reply asks."""

from __future__ import annotations

import pytest

from nowserving.domain.notify import command, mask, normalize_email, normalize_phone


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
