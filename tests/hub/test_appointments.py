"""The calendar and booking at the hub: a closed line is shown closed and refused; slots,
a race for the last place, the booking's link, its .ics, staff's list, axe at phone size."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from icalendar import Calendar
from playwright.sync_api import Browser, expect

from nowserving.system import i18n
from tests.hub.conftest import KIOSK, RunningHub, start_hub, stop_hub

DAYS = "\n".join(
    f'{day} = "00:00-24:00"' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
NEVER = "\n".join(f'{day} = ""' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
# Open around the clock (whenever this runs), except payments, which never opens.
OFFICE = f"""
[hub.rate_limits]
book = 1000

[calendar]
remote_join_closes_before = 0

[calendar.hours]
{DAYS}

[calendar.lines.payments]
{NEVER}

[booking]
lines = ["permits", "licenses"]
slot_minutes = 60
checkin_before = 120
days_ahead = 2
max_per_address = 1000

[booking.per_slot]
permits = 1

[[devices]]
id = "kiosk-permits"
role = "kiosk"
secret = "kiosk-for-permits-only-0123456789"
lines = ["permits"]
"""
PERMITS_KIOSK = "kiosk-for-permits-only-0123456789"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("hub"), OFFICE)
    yield running
    stop_hub(running)


def _tomorrow() -> str:
    return (datetime.now(ZoneInfo("America/Los_Angeles")).date() + timedelta(days=1)).isoformat()


def _slots(hub: RunningHub, line: str, day: str) -> list[dict[str, int]]:
    answer = requests.get(f"{hub.public_url}/api/booking/{line}/slots?day={day}", timeout=10)
    assert answer.status_code == 200, answer.text
    slots: list[dict[str, int]] = answer.json()
    return slots


def _book(hub: RunningHub, start: int, contact: str, line: str = "permits") -> requests.Response:
    body = {"line": line, "start": start, "contact": contact, "lang": "es"}
    return requests.post(f"{hub.public_url}/api/appointments", json=body, timeout=30)


def _next_slot(hub: RunningHub, line: str) -> dict[str, int]:
    """The line's next slot (within the hour: slots are an hour long, open all day)."""
    today = datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat()
    return (_slots(hub, line, today) or _slots(hub, line, _tomorrow()))[0]


def test_check_in_by_link_and_again_by_code_gives_one_appointment_ticket(
    hub: RunningHub,
) -> None:
    slot = _next_slot(hub, "licenses")
    booked = _book(hub, slot["start"], "+15105550111", line="licenses")
    token, code = booked.json()["token"], booked.json()["code"]
    here = requests.post(
        f"{hub.public_url}/api/appointments/check-in", json={"token": token}, timeout=10
    )
    assert here.status_code == 200, here.text
    answer = here.json()
    assert answer["late"] is False and answer["message"].startswith("Ya está registrado")
    assert answer["ticket"]["appointment"] == slot["start"] and answer["ticket"]["lang"] == "es"
    by_code = requests.post(
        f"{hub.public_url}/api/appointments/check-in", json={"code": code}, timeout=10
    )
    assert by_code.status_code == 401  # a code is short: kiosks only
    again = hub.post("/api/appointments/check-in", KIOSK, json={"code": code.lower()})
    assert again.status_code == 200 and again.json()["ticket"]["id"] == answer["ticket"]["id"]
    unknown = hub.post("/api/appointments/check-in", KIOSK, json={"code": "ZZZZ2222"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "booking_unknown"


def test_a_kiosk_sends_a_booking_for_a_line_it_does_not_serve_elsewhere(hub: RunningHub) -> None:
    booked = _book(hub, _next_slot(hub, "licenses")["start"], "+15105550112", line="licenses")
    code = booked.json()["code"]
    here = hub.post("/api/appointments/check-in", PERMITS_KIOSK, json={"code": code})
    assert here.status_code == 409 and here.json()["code"] == "checkin_elsewhere"
    # In the booking's language (Spanish), naming its service: kiosk-1 issues every line.
    assert here.json()["detail"] == i18n.text(
        "es", "checkin.other_kiosk", service="Licencias comerciales"
    )
    there = hub.post("/api/appointments/check-in", KIOSK, json={"code": code})
    assert there.status_code == 200 and there.json()["ticket"]["line"] == "licenses"


def test_twenty_residents_race_for_the_last_place(hub: RunningHub) -> None:
    slot = _slots(hub, "permits", _tomorrow())[5]
    assert slot["free"] == 1 and slot["end"] - slot["start"] == 3_600_000
    gate = threading.Barrier(20)
    answers: list[requests.Response] = []

    def resident(n: int) -> None:
        gate.wait()
        answers.append(_book(hub, slot["start"], f"+1510555{n:04d}"))

    threads = [threading.Thread(target=resident, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 19}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_full"}
    assert _slots(hub, "permits", _tomorrow())[5]["free"] == 0


def test_the_link_shows_the_code_gives_an_ics_and_cancels(hub: RunningHub) -> None:
    slot = _slots(hub, "permits", _tomorrow())[7]
    booked = _book(hub, slot["start"], "ana@example.org")
    assert booked.status_code == 201, booked.text
    token, code = booked.json()["token"], booked.json()["code"]
    page = requests.get(f"{hub.public_url}/a/{token}", timeout=10)
    assert code in page.text and "Su cita" in page.text and "data:image/svg+xml" in page.text
    ics = requests.get(f"{hub.public_url}/a/{token}/appointment.ics", timeout=10)
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert int(event.decoded("dtstart").timestamp() * 1000) == slot["start"]
    assert code in str(event.get("description"))
    again = _book(hub, _slots(hub, "permits", _tomorrow())[8]["start"], "ANA@example.org")
    third = _book(hub, _slots(hub, "permits", _tomorrow())[9]["start"], "ana@example.org")
    assert again.status_code == 201 and third.json()["code"] == "too_many_bookings"

    clerk = hub.sign_in("maria")
    listed = hub.get(f"/api/staff/appointments?day={_tomorrow()}&line=permits", clerk).json()
    mine = next(a for a in listed if a["code"] == code)
    assert mine["contact"] == "a•••@example.org" and mine["status"] == "booked"
    assert hub.get(f"/api/staff/appointments?day={_tomorrow()}").status_code == 401

    later = _slots(hub, "permits", _tomorrow())[10]["start"]
    moved = requests.post(
        f"{hub.public_url}/api/appointments/{token}/move", json={"start": later}, timeout=10
    )
    assert moved.status_code == 200 and moved.json()["start"] == later
    assert _slots(hub, "permits", _tomorrow())[7]["free"] == 1  # the old time is free again
    taken = _slots(hub, "permits", _tomorrow())[11]["start"]
    assert _book(hub, taken, "+15105550198").status_code == 201  # someone else holds it
    refused = requests.post(
        f"{hub.public_url}/api/appointments/{token}/move", json={"start": taken}, timeout=10
    )
    assert refused.json()["code"] == "slot_full"

    cancelled = requests.delete(f"{hub.public_url}/api/appointments/{token}", timeout=10)
    assert cancelled.json()["status"] == "cancelled"
    assert _slots(hub, "permits", _tomorrow())[10]["free"] == 1  # free for someone else
    assert _book(hub, later, "+15105550199").status_code == 201


def test_booking_in_a_browser_at_phone_size_passes_axe(hub: RunningHub, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for lang in ("en", "es", "zh", "vi", "ar"):
            page.goto(f"{hub.public_url}/book?lang={lang}&line=licenses&day={_tomorrow()}")
            results = Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
        page.goto(f"{hub.public_url}/?lang=en")
        page.get_by_role("link", name="Book a time").click()
        page.get_by_role("link", name="Business licenses").click()
        page.get_by_role("link").filter(has_text=_tomorrow()).click()
        page.get_by_role("radio").nth(3).check()
        page.get_by_label("Phone number or e-mail address").fill("+1 510 555 0147")
        page.get_by_role("button", name="Book this time").click()
        expect(page.get_by_role("heading", name="Your booking")).to_be_visible()
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_report()
        page.get_by_role("button", name="Cancel this booking").click()
        expect(page.get_by_role("heading", name="This booking was cancelled")).to_be_visible()
    finally:
        context.close()


def test_im_here_on_the_booking_page_checks_in(hub: RunningHub, browser: Browser) -> None:
    booked = _book(hub, _next_slot(hub, "licenses")["start"], "lin@example.org", "licenses")
    token = booked.json()["token"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{hub.public_url}/a/{token}?lang=en")
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_report()
        page.get_by_role("button", name="I'm here").click()
        page.wait_for_url("**/t/**")  # the ticket's own page, placed by the slot
        page.goto(f"{hub.public_url}/a/{token}?lang=en")  # checked in: a link to that ticket
        expect(page.get_by_role("link", name="Your ticket")).to_be_visible()
        expect(page.get_by_role("button", name="I'm here")).to_have_count(0)
    finally:
        context.close()


def test_a_closed_line_is_shown_closed_and_refused(hub: RunningHub) -> None:
    page = requests.get(f"{hub.public_url}/join?lang=es", timeout=10)
    assert page.status_code == 200
    html = page.text
    payments = html[html.index("Pagar una factura") :].split("</li>", 1)[0]
    assert "Cerrado" in payments and 'data-line="payments"' not in payments
    assert 'data-line="permits"' in html  # open: it can be joined

    joined = requests.post(f"{hub.public_url}/api/join", json={"line": "payments"}, timeout=10)
    assert joined.status_code == 409 and joined.json()["code"] == "line_closed"
    issued = hub.post("/api/tickets", KIOSK, json={"line": "payments"})
    assert issued.status_code == 409 and issued.json()["code"] == "line_closed"
    assert hub.issue("permits")["ticket"]["line"] == "permits"
    lines = {line["id"]: line for line in hub.get("/api/lines", KIOSK).json()}
    assert lines["payments"]["hours"]["status"] == "closed"
    assert lines["payments"]["hours"]["opens_at"] is None
    assert lines["permits"]["hours"]["status"] == "open"


def test_staff_book_for_a_resident_on_the_phone_under_the_same_rules(hub: RunningHub) -> None:
    clerk = hub.sign_in("tom")
    start = _slots(hub, "permits", _tomorrow())[12]["start"]
    body = {"line": "permits", "start": start}  # the caller gave no contact: no reminders
    made = hub.post("/api/staff/appointments", clerk, json=body)
    assert made.status_code == 201, made.text
    again = hub.post("/api/staff/appointments", clerk, json=body)
    assert again.status_code == 409 and again.json()["code"] == "slot_full"
    assert hub.post("/api/staff/appointments", json=body).status_code == 401
    public = requests.post(f"{hub.public_url}/api/staff/appointments", json=body, timeout=10)
    assert public.status_code == 404  # staff operations are not on the residents' listener
    listed = hub.get(f"/api/staff/appointments?day={_tomorrow()}&line=permits", clerk).json()
    mine = next(a for a in listed if a["code"] == made.json()["code"])
    assert (mine["booked_by"], mine["contact"], mine["start"]) == ("tom", "", start)
