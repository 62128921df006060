"""Booking and check-in as an attacker tries them: a stolen kiosk secret on the guest
network, a kiosk checking in another area's bookings, a checked-in booking cancelled or
moved to free its place for one more."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.hub.conftest import KIOSK, RunningHub, start_hub, stop_hub
from tests.hub.test_appointments import OFFICE, _book, _next_slot, _slots, _tomorrow

PERMITS_KIOSK = "kQ3vT8wZpL2mN6xR4yB7cD9fG1hJ5sKe"
# kiosk-3 stands by the permits counters: it issues tickets for permits only.
EXTRA = f"""
[[devices]]
id = "kiosk-3"
role = "kiosk"
secret = "{PERMITS_KIOSK}"
lines = ["permits"]
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("hub"), OFFICE + EXTRA)
    yield running
    stop_hub(running)


def _check_in(url: str, body: dict[str, str], secret: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return requests.post(f"{url}/api/appointments/check-in", json=body, headers=headers, timeout=10)


def test_a_kiosk_secret_from_the_guest_network_checks_no_code_in(hub: RunningHub) -> None:
    booked = _book(hub, _next_slot(hub, "licenses")["start"], "+15105550301", line="licenses")
    assert booked.status_code == 201, booked.text
    code = booked.json()["code"]
    stolen = _check_in(hub.public_url, {"code": code}, KIOSK)
    assert stolen.status_code == 401, stolen.text  # the residents' listener knows no device
    at_kiosk = _check_in(hub.url, {"code": code}, KIOSK)
    assert at_kiosk.status_code == 200, at_kiosk.text


def test_a_kiosk_checks_in_only_bookings_of_its_own_lines(hub: RunningHub) -> None:
    booked = _book(hub, _next_slot(hub, "licenses")["start"], "+15105550302", line="licenses")
    code = booked.json()["code"]
    elsewhere = _check_in(hub.url, {"code": code}, PERMITS_KIOSK)
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "checkin_elsewhere"
    assert _check_in(hub.url, {"code": code}, KIOSK).status_code == 200


def test_a_checked_in_booking_keeps_its_place_it_is_not_freed_twice(hub: RunningHub) -> None:
    slot = _next_slot(hub, "permits")  # one place per slot
    booked = _book(hub, slot["start"], "+15105550303")
    assert booked.status_code == 201, booked.text
    token = booked.json()["token"]
    assert _check_in(hub.public_url, {"token": token}).status_code == 200
    cancel = requests.delete(f"{hub.public_url}/api/appointments/{token}", timeout=10)
    assert cancel.status_code == 409 and cancel.json()["code"] == "booking_checked_in"
    later = _slots(hub, "permits", _tomorrow())[11]["start"]
    move = requests.post(
        f"{hub.public_url}/api/appointments/{token}/move", json={"start": later}, timeout=10
    )
    assert move.status_code == 409 and move.json()["code"] == "booking_checked_in"
    # The place stays taken by the checked-in resident: nobody else books it.
    again = _book(hub, slot["start"], "+15105550304")
    assert again.status_code == 409 and again.json()["code"] == "slot_full"
