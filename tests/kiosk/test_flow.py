"""The kiosk's flow as a pure state machine."""

from __future__ import annotations

from kiosk.flow import KioskFlow, Screen
from nowserving.domain.estimate import WaitRange
from nowserving.domain.state import Status
from nowserving.domain.views import LineView, TicketView

WAIT = WaitRange(5, 10)


def _line(line_id: str = "permits", *, paused: bool = False) -> LineView:
    return LineView(line_id, "A", 3, WAIT, paused, "Lunch" if paused else "", None, 1, True)


def _ticket() -> TicketView:
    return TicketView(
        "t", "A-001", "permits", Status.WAITING, 0, WAIT, False, "es", "kiosk", "2026-11-24", 0
    )


def test_the_whole_way_through() -> None:
    flow = KioskFlow(["en", "es"])
    flow.choose_language("es")
    assert (flow.screen, flow.lang) == (Screen.SERVICES, "es")
    assert flow.choose_line(_line()) is None
    assert flow.screen is Screen.PRIORITY
    request = flow.answer_priority(True)
    assert request is not None and (request.line, request.priority, request.lang) == (
        "permits",
        True,
        "es",
    )
    flow.issued(_ticket())
    assert flow.screen is Screen.TICKET
    flow.reset()
    assert (flow.screen, flow.lang, flow.ticket) == (Screen.WELCOME, "en", None)


def test_a_second_tap_while_issuing_is_ignored() -> None:
    flow = KioskFlow(["en"], ask_priority=False)
    flow.choose_language("en")
    assert flow.choose_line(_line()) is not None
    assert flow.choose_line(_line()) is None  # the double tap
    flow.back()
    flow.reset()
    assert flow.screen is Screen.SERVICES  # nothing moves until the ticket is in


def test_a_paused_line_cannot_be_taken() -> None:
    flow = KioskFlow(["en"])
    flow.choose_language("en")
    assert flow.choose_line(_line(paused=True)) is None
    assert flow.screen is Screen.SERVICES


def test_failure_returns_to_the_services_with_the_reason() -> None:
    flow = KioskFlow(["en"], ask_priority=False)
    flow.choose_language("en")
    flow.choose_line(_line())
    flow.failed("This line is paused: Lunch.")
    assert (flow.screen, flow.busy, flow.error) == (
        Screen.SERVICES,
        False,
        "This line is paused: Lunch.",
    )


def test_reset_clears_the_aids_for_the_next_resident() -> None:
    flow = KioskFlow(["en", "ar"])
    flow.aids.high_contrast = flow.aids.voice = True
    flow.choose_language("ar")
    flow.back()
    assert flow.screen is Screen.WELCOME
    assert not flow.aids.high_contrast and not flow.aids.voice and flow.lang == "en"


def test_unknown_language_is_ignored() -> None:
    flow = KioskFlow(["en"])
    flow.choose_language("xx")
    assert flow.screen is Screen.WELCOME


def _typing(country: str, digits: str) -> KioskFlow:
    flow = KioskFlow(["en"], country=country, screen=Screen.PHONE, ticket=_ticket())
    for key in digits:
        flow.press(key)
    return flow


def test_the_keypad_reads_a_number_as_national_only_with_the_offices_country_code() -> None:
    assert _typing("1", "5105550147").send_phone() == "+15105550147"
    assert _typing("1", "0034612345678").send_phone() == "+34612345678"  # 00: as typed
    national = _typing("", "5105550147")
    assert national.needs_country and national.send_phone() is None  # the screen says why
    assert not _typing("", "0").needs_country  # the start of "00"
    assert _typing("", "0015105550147").send_phone() == "+15105550147"
