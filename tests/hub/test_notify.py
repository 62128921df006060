"""Text messages and e-mails reach residents: a real hub, a local HTTP server playing the
SMS gateway and a real SMTP server (aiosmtpd), all on loopback."""

from __future__ import annotations

import email
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from nowserving.domain.rules import ticket_id
from tests.hub.conftest import DISPLAY, RunningHub, free_port, start_hub, stop_hub

GATEWAY_AUTH = "Bearer gateway-credential-0123"
INBOUND_SECRET = "replies-from-the-gateway-0123"
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

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = recorder.handle(body, dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder, server.server_address[1]
    server.shutdown()
    server.server_close()


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
