"""Text messages and e-mails reach residents: a real hub, a local HTTP server playing the
SMS gateway and a real SMTP server (aiosmtpd), all on loopback."""

from __future__ import annotations

import base64
import email
import json
import os
import re
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import http_ece
import pytest
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Browser, expect
from py_vapid import Vapid02

from nowserving.domain.config import load_config
from nowserving.domain.rules import ticket_id
from nowserving.hub.push import b64url, new_private_key, public_key
from nowserving.sync.replica import ReplicaService, open_replica
from tests.hub.conftest import DISPLAY, PINS, RunningHub, free_port, start_hub, stop_hub
from tests.hub.loopback import posts_to
from tests.hub.test_phone_page import OVERFLOWING, PHONE
from tests.sync.proxy import ChaosProxy
from tests.sync.waiting import wait_until

GATEWAY_AUTH = "Bearer gateway-credential-0123"
INBOUND_SECRET = "replies-from-the-gateway-0123"
VAPID_KEY = new_private_key()
WAIT_S = 30.0  # generous: a loaded 2-core machine


@dataclass
class Gateway:
    """An SMS gateway on loopback: records what it is sent; `down` answers 503, and
    numbers in `refuse` get 400."""

    taken: list[dict[str, Any]] = field(default_factory=list)  # accepted: body + headers
    tries: int = 0
    down: bool = False
    refuse: set[str] = field(default_factory=set)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, body: dict[str, Any], headers: dict[str, str]) -> int:
        with self.changed:
            self.tries += 1
            self.changed.notify_all()
            if self.down:
                return 503
            if body.get("to") in self.refuse:
                return 400
            self.taken.append({**body, "key": headers.get("Idempotency-Key"), **headers})
            self.changed.notify_all()
            return 202

    def wait_for(self, check: Callable[[Gateway], bool]) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: check(self), timeout=WAIT_S), self.taken

    def texts_to(self, phone: str) -> list[str]:
        with self.changed:
            return [m["text"] for m in self.taken if m["to"] == phone]


@dataclass
class Mailbox:
    """What the SMTP server on loopback received."""

    mails: list[Message] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.changed:
            self.mails.append(email.message_from_bytes(envelope.content))
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, to: str, count: int) -> list[Message]:
        with self.changed:
            found = lambda: [m for m in self.mails if m["To"] == to]  # noqa: E731
            assert self.changed.wait_for(lambda: len(found()) >= count, timeout=WAIT_S)
            return found()


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Gateway, int]]:
    recorder = Gateway()
    with posts_to(lambda path, headers, body: recorder.handle(json.loads(body), headers)) as port:
        yield recorder, port


@dataclass
class PushRelay:
    """A push service on loopback: records each message (path, headers, encrypted body);
    paths starting with /gone answer 410, as for a subscription the browser dropped."""

    taken: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def to(
        self, path: str, done: Callable[[list[bytes]], bool]
    ) -> list[tuple[dict[str, str], bytes]]:
        """The messages to `path` once `done(their bodies)`, waiting for them."""
        with self.changed:
            found = lambda: [(h, b) for p, h, b in self.taken if p == path]  # noqa: E731
            assert self.changed.wait_for(lambda: done([b for _, b in found()]), timeout=WAIT_S)
            return found()


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[PushRelay, int]]:
    recorder = PushRelay()

    def take(path: str, headers: dict[str, str], body: bytes) -> int:
        with recorder.changed:
            recorder.taken.append((path, headers, body))
            recorder.changed.notify_all()
        return 410 if path.startswith("/gone") else 201

    with posts_to(take) as port:
        yield recorder, port


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory,
    gateway: tuple[Gateway, int],
    mailbox: tuple[Mailbox, int],
    relay: tuple[PushRelay, int],
) -> Iterator[RunningHub]:
    extra = f"""
[hub.rate_limits]
subscribe = 1000  # a hundred residents subscribe from this one address

[notify]
near = 2
max_tries = 2
retry_max_seconds = 0.5

[notify.sms]
url = "http://127.0.0.1:{gateway[1]}/sms"
auth_value = "{GATEWAY_AUTH}"
inbound_secret = "{INBOUND_SECRET}"

[notify.email]
host = "127.0.0.1"
port = {mailbox[1]}
starttls = false
sender = "office@riverside.example"

[notify.push]
vapid_private_key = "{VAPID_KEY}"
subject = "mailto:it@riverside.example"
loopback_http = true  # the push service of these tests is on loopback
"""
    running = start_hub(tmp_path_factory.mktemp("notify-hub"), extra)
    yield running
    stop_hub(running)


def subscribe(hub: RunningHub, token: str, **body: str) -> Any:
    import requests

    return requests.post(f"{hub.public_url}/api/tickets/{token}/contacts", json=body, timeout=10)


def alerts(hub: RunningHub) -> dict[str, str]:
    board = hub.get("/api/board", DISPLAY).json()
    return {a["alert"]: a["message"] for a in board["alerts"] if a["message"]}


def test_a_resident_is_told_by_text_and_mail_in_their_language(
    hub: RunningHub, gateway: tuple[Gateway, int], mailbox: tuple[Mailbox, int]
) -> None:
    recorder, box = gateway[0], mailbox[0]
    phone, address = "+15105550101", "ana@example.org"
    issued = hub.issue("ids", lang="es")
    answer = subscribe(hub, issued["token"], phone="+1 (510) 555-0101")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contacts": [{"channel": "sms", "shown": "•••• 0101"}]}
    assert subscribe(hub, issued["token"], email=address).status_code == 200
    clerk = hub.sign_in("maria")
    hub.post("/api/counters/c5/open", clerk)
    # This very resident (the hub is shared: other tests' residents may wait in the line).
    body = {"ticket": issued["ticket"]["id"], "reason": "test"}
    called_now = hub.post("/api/counters/c5/call", clerk, json=body)
    assert called_now.json()["id"] == issued["ticket"]["id"], called_now.text
    recorder.wait_for(lambda g: len(g.texts_to(phone)) == 2)
    joined, called = recorder.texts_to(phone)
    assert joined.startswith(f"Está en la fila con el turno {issued['ticket']['label']}")
    assert issued["url"] in joined
    assert called == f"Turno {issued['ticket']['label']}: por favor, pase ahora a Ventanilla 5."
    sent = [m for m in recorder.taken if m["to"] == phone]
    assert {m["Authorization"] for m in sent} == {GATEWAY_AUTH}
    assert sent[1]["key"].startswith(f"{issued['ticket']['id']}:called:")
    mails = box.wait_for(address, 2)
    assert mails[1]["Subject"] == f"Turno {issued['ticket']['label']}"
    assert mails[1].get_payload(decode=True).decode().strip() == called
    assert mails[1]["From"] == "office@riverside.example"
    # Nothing of the resident's in the hub's log.
    log = (hub.data.parent / "hub.log").read_text(errors="replace")
    assert phone not in log and "5550101" not in log and address not in log


def test_bad_contacts_are_refused_with_a_reason(hub: RunningHub) -> None:
    token = hub.issue("ids")["token"]
    for body, why in (
        ({"phone": "555-0101"}, "international form"),
        ({"phone": "+1" + "5" * 50}, "at most 40"),
        ({"email": "not an address"}, "e-mail address"),
        ({"phone": "+15105550102", "email": "a@example.org"}, "either"),
        ({}, "either"),
    ):
        answer = subscribe(hub, token, **body)
        assert answer.status_code == 422 and why in answer.text, (body, answer.text)
    assert subscribe(hub, "x" * 22, phone="+15105550102").status_code == 404


def test_unsubscribing_stops_the_messages(hub: RunningHub, gateway: tuple[Gateway, int]) -> None:
    import requests

    phone = "+15105550103"
    hub.issue("records")
    second = hub.issue("records")
    subscribe(hub, second["token"], phone=phone)
    gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 1)  # joined
    url = f"{hub.public_url}/api/tickets/{second['token']}/contacts"
    assert requests.delete(url, timeout=10).json() == {"contacts": []}
    clerk = hub.sign_in("maria")
    hub.post("/api/counters/c4/open", clerk)
    for _ in range(5):  # until the unsubscribed resident is called (c4 serves two lines)
        if hub.post("/api/counters/c4/call-next", clerk).json()["id"] == second["ticket"]["id"]:
            break
    else:
        pytest.fail("the resident was never called")
    other = "+15105550113"  # a later message to someone else: ours would have gone before
    third = hub.issue("records")
    subscribe(hub, third["token"], phone=other)
    gateway[0].wait_for(lambda g: len(g.texts_to(other)) == 1)
    assert len(gateway[0].texts_to(phone)) == 1


def test_a_refused_message_is_marked_failed_and_shown_to_the_desk(
    hub: RunningHub, gateway: tuple[Gateway, int]
) -> None:
    phone = "+15105550104"
    gateway[0].refuse.add(phone)
    ticket = hub.issue("payments")
    subscribe(hub, ticket["token"], phone=phone)
    clerk = hub.sign_in("maria")
    deadline = time.monotonic() + WAIT_S  # two tries, retry_max_seconds apart
    while time.monotonic() < deadline:
        failed = hub.get("/api/notify/failed", clerk).json()
        if any(f["ticket"] == ticket["ticket"]["id"] for f in failed):
            break
        time.sleep(0.5)
    mine = [f for f in failed if f["ticket"] == ticket["ticket"]["id"]]
    assert mine == [
        {
            "ticket": ticket["ticket"]["id"],
            "channel": "sms",
            "shown": "•••• 0104",
            "error": "the SMS gateway answered 400",
        }
    ]
    assert "•••• 0104" in alerts(hub)["notify.failed"]
    assert phone not in json.dumps(alerts(hub))


def test_residents_reply_status_or_leave_in_their_language(
    hub: RunningHub, gateway: tuple[Gateway, int]
) -> None:
    import requests

    phone = "+15105550105"
    ticket = hub.issue("ids", lang="es")
    label = ticket["ticket"]["label"]
    subscribe(hub, ticket["token"], phone=phone)
    url = f"{hub.public_url}/api/notify/sms/inbound"

    def reply(text: str, sender: str = phone, secret: str = INBOUND_SECRET, **more: str) -> Any:
        headers = {"Authorization": f"Bearer {secret}"}
        body = {"from": sender, "text": text, **more}
        return requests.post(url, json=body, headers=headers, timeout=10)

    assert reply("estado", secret="wrong-secret-0123456789").status_code == 401
    assert reply("Estado.", id="gw-1").json() == {"handled": "status"}
    assert reply("Estado.", id="gw-1").json() == {"handled": "status"}  # the gateway retried
    assert reply("hello?").json() == {"handled": "help"}
    assert reply("STATUS", sender="+15105559999").json() == {"handled": "unknown"}
    gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 3)
    _joined, status, help_text = gateway[0].texts_to(phone)
    assert status.startswith(f"Turno {label}: ") and "SALIR" in status
    assert help_text.startswith(f"Turno {label}: responda ESTADO")
    assert reply("leave", id="gw-2").json() == {"handled": "leave"}
    assert hub.get(f"/api/tickets/{ticket['token']}").json()["status"] == "left"
    gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 4)
    assert gateway[0].texts_to(phone)[-1] == f"Turno {label}: ya no está en la fila."
    assert reply("leave", id="gw-3").json() == {"handled": "unknown"}  # no longer in line
    # Every resident's reply comes from the gateway's one address: none is turned away.
    answers = [reply("STATUS", sender=f"+1510555{n:04d}").status_code for n in range(15)]
    assert answers == [200] * 15


def text(hub: RunningHub, sender: str, said: str, ref: str) -> str:
    """The gateway forwards a resident's text message; what the hub did with it."""
    import requests

    url = f"{hub.public_url}/api/notify/sms/inbound"
    body = {"from": sender, "text": said, "id": ref}
    headers = {"Authorization": f"Bearer {INBOUND_SECRET}"}
    answer = requests.post(url, json=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    handled: str = answer.json()["handled"]
    return handled


def test_text_to_join_then_late_moves_the_resident_back_in_the_desks_queue(
    hub: RunningHub, gateway: tuple[Gateway, int]
) -> None:
    phone = "+15105550108"
    assert text(hub, phone, "permits", "gw-join-0001") == "joined"
    gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 1)
    (joined,) = gateway[0].texts_to(phone)
    token = joined.split("/t/", 1)[1].split("?", 1)[0]
    mine = {"id": ticket_id(token), "label": hub.get(f"/api/tickets/{token}").json()["label"]}
    behind = [hub.issue("permits")["ticket"]["id"] for _ in range(4)]
    assert text(hub, phone, "LATE", "gw-late-0001") == "late"
    clerk = hub.sign_in("maria")
    queue = [t["id"] for t in hub.get("/api/counters/c1/queue", clerk).json()]
    ours = [t for t in queue if t in {mine["id"], *behind}]  # others' residents may wait too
    assert ours == [*behind[:3], mine["id"], behind[3]]
    assert text(hub, phone, "late", "gw-late-0002") == "late"
    gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 3)
    moved, again = gateway[0].texts_to(phone)[1:]
    assert moved.startswith(f"Ticket {mine['label']}: you moved back a few places.")
    assert again.startswith(f"Ticket {mine['label']}: you have already moved back once.")


@pytest.mark.slow
def test_a_gateway_down_for_a_while_delays_messages_but_loses_none_and_slows_no_call(
    hub: RunningHub, gateway: tuple[Gateway, int]
) -> None:
    recorder = gateway[0]
    clerk = hub.sign_in("tom")
    hub.post("/api/counters/c3/open", clerk)

    called: list[str] = []  # ticket ids

    def call_times(count: int) -> list[float]:
        took = []
        for _ in range(count):
            started = time.perf_counter()
            answer = hub.post("/api/counters/c3/call-next", clerk)
            took.append(time.perf_counter() - started)
            assert answer.status_code == 200
            called.append(answer.json()["id"])
        return took

    for _ in range(10):
        hub.issue("licenses")
    before = call_times(10)  # the gateway up, nothing queued
    with recorder.changed:
        recorder.down = True
    phones = {}  # ticket id -> phone
    for n in range(100):  # 100 residents opted in: "joined", then "near" and "called"
        ticket = hub.issue("licenses")
        phones[ticket["ticket"]["id"]] = phone = f"+1510555{2000 + n}"
        assert subscribe(hub, ticket["token"], phone=phone).status_code == 200
    tries = recorder.tries
    recorder.wait_for(lambda g: g.tries > tries + 2)  # the worker keeps trying, in vain
    during = call_times(40)  # the gateway down, ~200 messages waiting
    assert "notify.sms" in alerts(hub)
    # What it protects: a call never waits for the gateway (generous: a loaded machine).
    assert statistics.median(during) < 3 * statistics.median(before) + 0.05, (before, during)
    with recorder.changed:
        recorder.down = False
    told = [phones[ticket] for ticket in called if ticket in phones]
    assert len(told) >= 30  # a few calls went to residents without a phone number
    recorder.wait_for(
        lambda g: (
            all(any("Counter 3" in t for t in g.texts_to(p)) for p in told)
            and all(g.texts_to(p) for p in phones.values())
        )
    )
    keys = [m["key"] for m in recorder.taken]
    assert len(keys) == len(set(keys)), "a message went out twice"
    for phone in told:
        assert sum("Counter 3" in t for t in recorder.texts_to(phone)) == 1
    deadline = time.monotonic() + WAIT_S
    while "notify.sms" in alerts(hub) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "notify.sms" not in alerts(hub)


@pytest.mark.browser
def test_a_resident_leaves_a_number_on_the_page_and_stops_it(
    hub: RunningHub, gateway: tuple[Gateway, int], browser: Browser
) -> None:
    phone = "+15105550106"
    issued = hub.issue("payments", lang="es")
    context = browser.new_context(viewport=PHONE, locale="es-ES")
    page = context.new_page()
    try:
        page.goto(issued["url"])
        expect(page.locator("#contact-kept")).to_have_text(
            "Solo lo usamos para este turno y lo borramos cuando termine su visita."
        )
        field = page.get_by_label("Número de celular, con código de país")
        assert field.get_attribute("type") == "tel"
        field.fill("510 555 0106")  # no country code: told at once, in Spanish
        page.get_by_role("button", name="Enviarme mensajes").click()
        expect(page.locator("#contact-error")).to_contain_text("con su código de país")
        assert page.evaluate(OVERFLOWING) == []
        checked = Axe().run(page)  # labels, contrast, the error announced
        assert checked.violations_count == 0, checked.generate_report()
        field.fill("+1 510 555 0106")
        page.get_by_role("button", name="Enviarme mensajes").click()
        expect(page.locator("#contact-list")).to_have_text("•••• 0106")
        gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 1)
        assert gateway[0].texts_to(phone)[0].startswith("Está en la fila con el turno")
        page.get_by_role("button", name="Dejar de recibir mensajes").click()
        expect(page.get_by_label("Número de celular, con código de país")).to_be_visible()
        assert subscribe_list(hub, issued["token"]) == []
    finally:
        context.close()


@pytest.mark.browser
def test_joining_remotely_with_an_email_sends_the_joined_mail(
    hub: RunningHub, mailbox: tuple[Mailbox, int], browser: Browser
) -> None:
    address = "remote-join@example.org"
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{hub.public_url}/join?lang=vi")
        checked = Axe().run(page)
        assert checked.violations_count == 0, checked.generate_report()
        page.get_by_label("Địa chỉ email").fill(address)
        page.locator("li.line").first.get_by_role("button").click()
        page.wait_for_url(re.compile(r"/t/[\w-]{22}\?lang=vi$"))
        expect(page.locator("#contact-list")).to_have_text("r•••@example.org")
        label = page.locator("#number").inner_text()
        (mail,) = mailbox[0].wait_for(address, 1)
        assert label in mail["Subject"]
    finally:
        context.close()


def test_the_contact_form_works_without_script(
    hub: RunningHub, gateway: tuple[Gateway, int]
) -> None:
    import requests

    phone = "+15105550107"
    issued = hub.issue("payments", lang="ar")
    url = f"{hub.public_url}/t/{issued['token']}/contacts?lang=ar"
    wrong = requests.post(url, data={"phone": "12"}, timeout=10, allow_redirects=False)
    assert wrong.status_code == 422 and "رمز الدولة" in wrong.text  # the page, with the reason
    saved = requests.post(url, data={"phone": phone}, timeout=10, allow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?lang=ar#contact")
    gateway[0].wait_for(lambda g: len(g.texts_to(phone)) == 1)
    assert "•••• 0107" in requests.get(f"{hub.public_url}/t/{issued['token']}", timeout=10).text
    stopped = requests.post(url, data={"stop": "1"}, timeout=10, allow_redirects=False)
    assert stopped.status_code == 303 and subscribe_list(hub, issued["token"]) == []


def subscribe_list(hub: RunningHub, token: str) -> list[str]:
    """The ticket's contacts, masked, as its page shows them."""
    import requests

    page = requests.get(f"{hub.public_url}/t/{token}", timeout=10).text
    return re.findall(r'<li dir="ltr">([^<]*)</li>', page)


def phone_keys() -> tuple[ec.EllipticCurvePrivateKey, dict[str, str]]:
    """What a browser makes when it subscribes: a P-256 key pair and an auth secret."""
    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    return private, {"p256dh": b64url(point), "auth": b64url(auth)}


def test_a_push_reaches_the_phone_encrypted_in_its_language_and_a_gone_one_is_dropped(
    hub: RunningHub, relay: tuple[PushRelay, int]
) -> None:
    import requests

    recorder, port = relay
    issued = hub.issue("ids", lang="zh")
    page = requests.get(issued["url"], timeout=10).text
    assert public_key(VAPID_KEY) in page and VAPID_KEY not in page  # only the public half
    private, keys = phone_keys()
    path = f"/push/{issued['ticket']['id']}"
    endpoint = f"http://127.0.0.1:{port}{path}"
    answer = subscribe(hub, issued["token"], push={"endpoint": endpoint, "keys": keys})
    assert answer.json() == {"contacts": [{"channel": "push", "shown": "•••• 127.0.0.1"}]}
    clerk = hub.sign_in("maria")
    hub.post("/api/counters/c5/open", clerk)
    body = {"ticket": issued["ticket"]["id"], "reason": "test"}
    assert hub.post("/api/counters/c5/call", clerk, json=body).status_code == 200

    def opened(sealed: bytes) -> dict[str, Any]:
        """Only this phone can read it: its private key and auth secret open the payload."""
        auth = unb64(keys["auth"])
        return dict(json.loads(http_ece.decrypt(sealed, private_key=private, auth_secret=auth)))

    # "Near the front" may come first (not "joined": the resident is on their page).
    messages = recorder.to(path, lambda bodies: any(opened(b)["urgent"] for b in bodies))
    headers, sealed = messages[-1]
    shown = opened(sealed)
    label = issued["ticket"]["label"]
    assert shown["title"] == f"号码 {label}" and shown["lang"] == "zh"
    assert shown["body"] == f"号码 {label}：请现在到5号窗口办理。"
    assert shown["url"] == issued["url"]
    assert headers["Content-Encoding"] == "aes128gcm" and int(headers["TTL"]) > 0
    assert Vapid02.verify(headers["Authorization"])  # signed by the hub's key...
    assert f"k={public_key(VAPID_KEY)}" in headers["Authorization"]  # ...the page's one
    # A subscription the push service says is gone (410) is forgotten.
    gone = hub.issue("ids")
    _, keys = phone_keys()
    endpoint = f"http://127.0.0.1:{port}/gone/{gone['ticket']['id']}"
    assert subscribe(hub, gone["token"], push={"endpoint": endpoint, "keys": keys}).ok
    body = {"ticket": gone["ticket"]["id"], "reason": "test"}
    assert hub.post("/api/counters/c5/call", clerk, json=body).status_code == 200
    recorder.to(f"/gone/{gone['ticket']['id']}", bool)
    url = f"{hub.public_url}/api/tickets/{gone['token']}/contacts?channel=sms"
    deadline = time.monotonic() + WAIT_S
    while requests.delete(url, timeout=10).json()["contacts"] and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker drops it right after the answer
    assert requests.delete(url, timeout=10).json() == {"contacts": []}
    # A push service must be https (this hub takes loopback http for its tests only).
    wrong = {"endpoint": "http://push.example.org/x", "keys": keys}
    refused = subscribe(hub, gone["token"], push=wrong)
    assert refused.status_code == 422 and "https://" in refused.text


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_call_made_offline_is_texted_once_when_the_desk_is_back_and_a_stale_one_never(
    hub: RunningHub, gateway: tuple[Gateway, int], tmp_path: Path
) -> None:
    """A desk cut off from the hub calls two residents who left their numbers: the first
    is served before the desk is back, so only the second is still called by then."""
    recorder = gateway[0]
    early, later = hub.issue("permits"), hub.issue("permits")
    phones = {"+15105550170": early, "+15105550171": later}
    for phone, issued in phones.items():
        assert subscribe(hub, issued["token"], phone=phone).status_code == 200
    recorder.wait_for(lambda g: all(g.texts_to(phone) for phone in phones))  # "joined"
    config = load_config(hub.config)
    device = next(d for d in config.devices if d.id == "desk-1")
    with ChaosProxy(int(hub.url.rsplit(":", 1)[1]), drop=0, cut=0, delay=0) as network:
        desk = ReplicaService(
            open_replica(tmp_path / "desk.sqlite"),
            config,
            device,
            f"http://127.0.0.1:{network.port}",
            interval=0.05,
        )
        try:
            desk.sign_in("tom", PINS["tom"])
            wait_until(lambda: later["ticket"]["id"] in desk.state.tickets, WAIT_S)
            network.partition()
            wait_until(lambda: not desk.sync.status.online, WAIT_S)
            for issued in (early, later):  # calling the second serves the first
                desk.call_ticket("c1", issued["ticket"]["id"], reason="test", staff="tom")
            network.partition(False)
            recorder.wait_for(lambda g: len(g.texts_to("+15105550171")) == 2)
            wait_until(lambda: desk.sync.status.online and desk.sync.status.outbox == 0, WAIT_S)
        finally:
            desk.close()
    _, called = recorder.texts_to("+15105550171")
    assert called == f"Ticket {later['ticket']['label']}: please go to Counter 1 now."
    with sqlite3.connect(f"file:{hub.data / 'office.sqlite'}?mode=ro", uri=True) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM outbox WHERE key LIKE '%:called:%'")]
    # Once, keyed by the call's event; the served resident was told nothing stale.
    assert [k.split(":")[0] for k in keys].count(later["ticket"]["id"]) == 1
    assert early["ticket"]["id"] not in [k.split(":")[0] for k in keys]
    assert len(recorder.texts_to("+15105550170")) == 1
