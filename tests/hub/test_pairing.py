"""Devices pair once with a one-time code; the hub alone holds secrets; revoking is at once.

A real hub process on loopback, the `nowserving pair` / `revoke` / `report` commands as
real processes on the hub's store, and devices that pair over HTTP.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desk.window import DeskWindow
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import load_config
from nowserving.domain.pairing import REMOVED, REVOKED_CODE
from nowserving.domain.signin import SignInRefused
from nowserving.store.eventstore import EventStore
from nowserving.store.registry import Registry
from nowserving.sync.board_stream import HubBoard
from nowserving.sync.pairing import OfficeFile, credential_path, load_credential, pair
from nowserving.sync.replica import DeviceRemoved, ReplicaService, open_replica
from nowserving.system.paths import sample_config
from tests.hub.conftest import (
    DESK,
    DISPLAY,
    KIOSK,
    PINS,
    RunningHub,
    session_from,
    start_hub,
    stop_hub,
)
from tests.sync.waiting import wait_until

SAMPLE = load_config(sample_config())
PIN_HASHES = [person.pin_hash for person in SAMPLE.staff]
SAMPLE_SECRETS = [device.secret for device in SAMPLE.devices]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("hub"))
    yield running
    stop_hub(running)


def nowserving(hub: RunningHub, *args: str) -> subprocess.CompletedProcess[str]:
    """A command run on the hub PC, on the hub's store."""
    return subprocess.run(
        [sys.executable, "-m", "nowserving", "--data", str(hub.data), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def new_code(hub: RunningHub, role: str, *extra: str) -> str:
    result = nowserving(hub, "pair", "--role", role, "--json", *extra)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert datetime.fromisoformat(answer["expires_at"]).timestamp() > datetime.now().timestamp()
    code: str = answer["code"]
    return code


def app_command(folder: Path, role: str, hub: str) -> list[str]:
    """A kiosk, display or desk app as its own process, on a PC of its own (`folder`)."""
    return [
        sys.executable,
        "-m",
        "nowserving",
        "--data",
        str(folder),
        role,
        "--hub",
        hub,
        "--windowed",
    ]


def files_in(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_paired_kiosk_display_and_desk_hold_their_own_secret_and_nothing_else(
    hub: RunningHub, tmp_path: Path
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    codes = {role: new_code(hub, role) for role in ("kiosk", "display", "desk")}
    apps = {
        role: subprocess.Popen(
            [*app_command(tmp_path / role, role, hub.url), "--pair", code, "--exit-after", "6"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for role, code in codes.items()
    }
    try:
        for role, app in apps.items():
            output = app.communicate(timeout=120)[0].decode(errors="replace")
            assert app.returncode == 0, f"{role}: {output}"
    finally:
        for app in apps.values():
            if app.poll() is None:
                app.kill()
                app.communicate()
    secrets = {}
    for role in apps:
        folder = tmp_path / role
        credential = load_credential(folder, role)
        assert credential.device.id.startswith(f"{role}-")
        assert stat.S_IMODE(credential_path(folder, role).stat().st_mode) == 0o600
        secrets[role] = credential.device.secret
    for role in apps:
        held = files_in(tmp_path / role)
        others = [s for r, s in secrets.items() if r != role] + SAMPLE_SECRETS
        assert not [s for s in others if s.encode() in held], f"{role} holds another's secret"
        if role != "desk":  # a desk keeps the staff's PIN hashes, to sign in offline
            assert b"scrypt$" not in held, f"the {role} holds a PIN hash"
    # The kiosk synced with its own secret: its replica holds the hub's events.
    kiosk = load_credential(tmp_path / "kiosk", "kiosk").device.id
    assert (tmp_path / "kiosk" / f"replica-{kiosk}.sqlite").exists()
    # Started again with nothing but the hub's address.
    again = subprocess.run(
        [*app_command(tmp_path / "kiosk", "kiosk", hub.url), "--exit-after", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr


def test_a_code_is_used_once_expires_and_is_not_guessed(hub: RunningHub, tmp_path: Path) -> None:
    phone = session_from("127.0.0.21")
    code = new_code(hub, "kiosk", "--id", "kiosk-9")
    first = phone.post(hub.url + "/api/pair", json={"code": code.lower()}, timeout=10)
    assert first.status_code == 200, first.text
    assert first.json()["device"]["id"] == "kiosk-9"
    assert first.json()["office"]["office"]["staff"] == []  # a kiosk gets no PIN hash
    second = phone.post(hub.url + "/api/pair", json={"code": code}, timeout=10)
    assert second.status_code == 409 and "used already" in second.json()["detail"]
    # A code made 11 minutes ago (the registry's clock moved back) has expired.
    store = EventStore(hub.data / "office.sqlite")
    try:
        old = Registry(store, lambda: wall_ms() - 11 * 60_000).new_pairing("display")
    finally:
        store.close()
    late = phone.post(hub.url + "/api/pair", json={"code": old.code}, timeout=10)
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    # Guessing: a wrong code is refused, and the fifth try a minute from one address is the last.
    guesser = session_from("127.0.0.22")
    answers = [
        guesser.post(hub.url + "/api/pair", json={"code": "ABCD-EFGH"}, timeout=10)
        for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [409] * 5 + [429]
    assert "Unknown pairing code" in answers[0].json()["detail"]
    assert int(answers[-1].headers["Retry-After"]) > 0
    # Another address is not held up by the guesser.
    other = session_from("127.0.0.23").post(hub.url + "/api/pair", json={"code": "x"}, timeout=10)
    assert other.status_code == 409


def test_a_revoked_device_is_refused_at_once_and_its_screen_says_why(
    hub: RunningHub, tmp_path: Path
) -> None:
    credential = pair(hub.url, new_code(hub, "kiosk"), tmp_path)
    device = credential.device
    office = OfficeFile(tmp_path, device.id)
    service = ReplicaService(
        open_replica(tmp_path / "replica.sqlite"),
        office.load()[1],
        device,
        hub.url,
        interval=0.05,
        office=office,
    )
    try:
        ticket = service.issue("permits")
        assert ticket.label.startswith("A-")  # numbered by the hub
        wait_until(lambda: service.sync.status.online)
        result = nowserving(hub, "revoke", device.id)
        assert result.returncode == 0, result.stderr
        refused = hub.get("/api/office", device.secret)
        assert refused.status_code == 401
        assert refused.json()["code"] == REVOKED_CODE and refused.json()["detail"] == REMOVED
        # Within a few sync rounds the screen's watcher gets the sentence to show.
        wait_until(lambda: service.sync.status.revoked, seconds=20)
        with pytest.raises(DeviceRemoved, match="This device was removed; ask IT to pair it again"):
            service.refresh()
    finally:
        service.close()
    # Old secrets from the imported office.toml still work (until revoked).
    assert hub.get("/api/board", KIOSK).status_code == 200
    assert hub.get("/api/board", DISPLAY).status_code == 200
    # Every change is in the staff audit of `nowserving report`, with who made it.
    out = tmp_path / "report"
    result = nowserving(
        hub, "report", "--config", str(hub.config), "--from", ticket.day, "--to", ticket.day,
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with (out / "staff_actions.csv").open() as handle:
        audit = [row for row in csv.DictReader(handle) if row["action"] == "office.changed"]
    reasons = [row["reason"] for row in audit]
    assert f"revoked {device.id}" in reasons and f"paired {device.id} (kiosk)" in reasons
    assert any(row["staff"].startswith("cli:") for row in audit)


def test_a_line_renamed_at_the_hub_reaches_paired_screens_without_restart(
    hub: RunningHub, tmp_path: Path
) -> None:
    kiosk = pair(hub.url, new_code(hub, "kiosk"), tmp_path / "kiosk")
    display = pair(hub.url, new_code(hub, "display"), tmp_path / "display")
    kiosk_office = OfficeFile(tmp_path / "kiosk", kiosk.device.id)
    display_office = OfficeFile(tmp_path / "display", display.device.id)
    service = ReplicaService(
        open_replica(tmp_path / "kiosk" / "replica.sqlite"),
        kiosk_office.load()[1],
        kiosk.device,
        hub.url,
        interval=0.05,
        office=kiosk_office,
    )
    board = HubBoard(
        hub.url, display.device.secret, display_office.load()[1], office=display_office
    )
    try:
        wait_until(lambda: service.sync.status.online)
        admin = hub.post("/api/staff/login", DESK, json={"staff": "maria", "pin": "1234"})
        token = admin.json()["token"]
        clerk = hub.post("/api/staff/login", DESK, json={"staff": "tom", "pin": "2468"})
        named = {"name": {"en": "Permits and plans", "es": "Permisos y planos"}}
        refused = hub.put("/api/admin/lines/permits/name", clerk.json()["token"], json=named)
        assert refused.status_code == 403  # tom has no admin right
        bad = hub.put("/api/admin/lines/permits/name", token, json={"name": {"es": "Permisos"}})
        assert bad.status_code == 422
        assert bad.json()["detail"] == "office: lines[0].name: no text in 'en', the first language"
        renamed = hub.put("/api/admin/lines/permits/name", token, json=named)
        assert renamed.status_code == 200, renamed.text

        def kiosk_shows_it() -> bool:
            service.refresh()  # what the kiosk's watcher calls; its screens read this config
            return service.config.line("permits").name["en"] == "Permits and plans"

        def display_shows_it() -> bool:
            board.refresh()
            return board.config.line("permits").name["en"] == "Permits and plans"

        # Kiosks learn the version with their next pull; displays ask every 5 s.
        wait_until(kiosk_shows_it, seconds=20)
        wait_until(display_shows_it, seconds=30)
        assert kiosk_office.load()[1].line("permits").name["es"] == "Permisos y planos"
    finally:
        service.close()
        board.close()


def test_staff_change_their_own_pin_at_a_paired_desk(
    hub: RunningHub, qtbot: QtBot, tmp_path: Path
) -> None:
    short = hub.post("/api/staff/pin", hub.sign_in("lin"), json={"pin": "1357", "new_pin": "2468"})
    assert short.status_code == 422  # a new PIN has 6 digits or more
    paired = pair(hub.url, new_code(hub, "desk"), tmp_path)
    office = OfficeFile(tmp_path, paired.device.id)
    service = ReplicaService(
        open_replica(tmp_path / "replica.sqlite"),
        office.load()[1],
        paired.device,
        hub.url,
        interval=0.05,
        office=office,
    )
    desk = DeskWindow(service.config, service, "c1")
    qtbot.addWidget(desk)
    desk.show()
    screen = desk.pin_change
    try:
        desk.signin.staff.setCurrentIndex(desk.signin.staff.findData("lin"))
        qtbot.keyClicks(desk.signin.pin, PINS["lin"])
        qtbot.mouseClick(desk.signin.sign_in, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: desk.stack.currentIndex() == 1, timeout=10_000)
        qtbot.mouseClick(desk.pin_button, Qt.MouseButton.LeftButton)
        assert desk.stack.currentWidget() is screen

        def change(pin: str, new: str, again: str) -> None:
            for field, text in ((screen.pin, pin), (screen.new_pin, new), (screen.again, again)):
                qtbot.keyClicks(field, text)
            qtbot.mouseClick(screen.change, Qt.MouseButton.LeftButton)

        change(PINS["lin"], "123456", "123456")  # the domain's rule, said at once
        assert "too easy to guess" in screen.message.text()
        change(PINS["lin"], "246813", "246831")
        assert "differ" in screen.message.text()
        change("0000", "246813", "246813")  # the hub checks the current PIN
        qtbot.waitUntil(
            lambda: "Wrong staff member or PIN" in screen.message.text(), timeout=10_000
        )
        with qtbot.waitSignal(desk.done, timeout=10_000):
            change(PINS["lin"], "246813", "246813")
        assert desk.stack.currentIndex() == 1 and "PIN is changed" in desk.status.text()
        # Revoked mid-shift: the desk says so at once and signs the clerk out.
        revoked = hub.post(f"/api/admin/devices/{paired.device.id}/revoke", hub.sign_in())
        assert revoked.status_code == 204, revoked.text
        qtbot.waitUntil(lambda: desk.banner.text() == REMOVED, timeout=20_000)
        assert desk.stack.currentWidget() is desk.signin and not desk.signin.sign_in.isEnabled()
    finally:
        service.close()
    old = hub.post("/api/staff/login", DESK, json={"staff": "lin", "pin": PINS["lin"]})
    new = hub.post("/api/staff/login", DESK, json={"staff": "lin", "pin": "246813"})
    assert (old.status_code, new.status_code) == (401, 200)
    # Desks receive the new hash, for signing in while the hub is away.
    office_now = hub.get("/api/office", DESK).json()["office"]
    assert next(s for s in office_now["staff"] if s["id"] == "lin")["pin_hash"] != PIN_HASHES[2]


def test_a_paired_kiosk_checks_its_staff_menu_pin_at_the_hub(
    hub: RunningHub, tmp_path: Path
) -> None:
    credential = pair(hub.url, new_code(hub, "kiosk"), tmp_path)
    office = OfficeFile(tmp_path, credential.device.id)
    config = office.load()[1]
    assert config.staff == []  # nothing here to check a PIN against
    service = ReplicaService(
        open_replica(tmp_path / "replica.sqlite"), config, credential.device, hub.url, start=False
    )
    try:
        assert service.check_staff_pin("1234").id == "maria"
        with pytest.raises(SignInRefused, match="Wrong staff member or PIN"):
            service.check_staff_pin("9999")
    finally:
        service.store.close()  # never started syncing
    display = hub.post("/api/staff/check-pin", DISPLAY, json={"pin": "1234"})
    assert display.status_code == 403  # kiosks only


def test_revoking_a_desk_ends_the_sessions_opened_at_it(hub: RunningHub, tmp_path: Path) -> None:
    desk = pair(hub.url, new_code(hub, "desk"), tmp_path).device
    signed = hub.post("/api/staff/login", desk.secret, json={"staff": "tom", "pin": PINS["tom"]})
    assert signed.status_code == 200, signed.text
    tom = signed.json()["token"]
    elsewhere = hub.sign_in("tom")  # at another desk
    assert hub.get("/api/counters/c3/queue", tom).status_code == 200
    admin = hub.sign_in("maria")
    revoked = hub.post(f"/api/admin/devices/{desk.id}/revoke", admin)
    assert revoked.status_code == 204, revoked.text
    # Whoever holds the stolen desk holds its clerks' tokens too: they end with it.
    assert hub.get("/api/counters/c3/queue", tom).status_code == 401
    assert hub.get("/api/counters/c3/queue", elsewhere).status_code == 200


def test_an_admin_page_session_cannot_act_at_a_counter(hub: RunningHub) -> None:
    import requests

    page = requests.Session()
    signed = page.post(
        f"{hub.url}/admin/login",
        data={"staff": "maria", "pin": PINS["maria"]},
        headers={"Origin": hub.url},
        allow_redirects=False,
        timeout=10,
    )
    assert signed.status_code == 303, signed.text
    token = page.cookies["nowserving_admin"]
    opened = hub.post("/api/counters/c1/open", token)
    assert opened.status_code == 403 and "from a desk" in opened.json()["detail"]
