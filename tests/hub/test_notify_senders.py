"""The e-mail sender against a real SMTP server on loopback (aiosmtpd): login, a refused
recipient, a server that is not there, STARTTLS with a trusted and an untrusted certificate.
The push sender refuses what it must not post to, and one slow push service holds no other."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from nowserving.domain.config import NotifyEmail, NotifyPush
from nowserving.hub.notify_worker import GONE, PushServices, SmtpServer, Unreachable, Worker
from nowserving.hub.push import b64url, new_private_key
from nowserving.store.outbox import Message
from nowserving.system.certs import make_ca, make_server_cert
from tests.hub.conftest import free_port
from tests.hub.loopback import posts_to

# Login over plain SMTP, on loopback: the server warns, rightly, about a real office.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[bool, list[str], bytes]] = []
        self.tls: list[bool] = []  # whether each mail came over TLS

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((session.authenticated, envelope.rcpt_tos, envelope.content))
        self.tls.append(session.ssl is not None)
        return "250 OK"


def _login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"hub", b"s3cret")
    return AuthResult(success=ok, handled=False)


def _serve(inbox: Inbox, port: int, **options: Any) -> Controller:
    """An SMTP server on loopback that takes mail only after the login `_login` accepts."""
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_login, auth_required=True, **options
    )
    controller.start()
    return controller


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    # STARTTLS has its own test (tls_smtp); this one tests the login.
    controller = _serve(inbox, port, auth_require_tls=False)
    yield inbox, port
    controller.stop()


def _message(address: str, key: str) -> Message:
    return Message(
        key, "t1", "email", address, "Ticket A-001\nTicket A-001: go to Counter 1.", 0, ""
    )


def test_mail_is_sent_after_login_and_a_refused_recipient_is_reported(
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    config = NotifyEmail(
        host="127.0.0.1",
        port=port,
        starttls=False,
        username="hub",
        password="s3cret",
        sender="office@riverside.example",
    )
    outcomes: list[tuple[str, str]] = []
    SmtpServer(config).send(
        [_message("nobody@example.org", "k1"), _message("ana@example.org", "k2")],
        lambda message, why: outcomes.append((message.key, why)),
    )
    assert outcomes[0][0] == "k1" and "550" in outcomes[0][1]
    assert outcomes[1] == ("k2", "")
    ((logged_in, to, content),) = inbox.received
    assert (logged_in, to) == (True, ["ana@example.org"])
    assert b"Subject: Ticket A-001" in content and b"go to Counter 1." in content


def test_a_wrong_password_or_no_server_means_try_again_later(smtp: tuple[Inbox, int]) -> None:
    port = smtp[1]
    wrong = NotifyEmail(host="127.0.0.1", port=port, starttls=False, username="hub", password="x")
    absent = NotifyEmail(host="127.0.0.1", port=free_port(), starttls=False)
    for config in (wrong, absent):
        with pytest.raises(Unreachable, match="mail server"):
            SmtpServer(config).send([_message("ana@example.org", "k3")], lambda m, why: None)
    assert smtp[0].received == []


@pytest.fixture(scope="module")
def tls_smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Inbox, int, Path]]:
    """A server that speaks STARTTLS with a certificate for 127.0.0.1 from its own CA, and
    takes a login only over TLS; yields the inbox, the port and that CA's file."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    ca = make_ca("Mail test")
    server = make_server_cert(ca, ["127.0.0.1"])
    (folder / "ca.pem").write_bytes(ca.cert)
    (folder / "server.pem").write_bytes(server.cert)
    (folder / "server.key").write_bytes(server.key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    inbox, port = Inbox(), free_port()
    controller = _serve(inbox, port, tls_context=context, require_starttls=True)
    yield inbox, port, folder / "ca.pem"
    controller.stop()


def test_starttls_upgrades_before_login_and_an_untrusted_certificate_sends_nothing(
    tls_smtp: tuple[Inbox, int, Path],
) -> None:
    inbox, port, ca_file = tls_smtp
    login = {"host": "127.0.0.1", "port": port, "username": "hub", "password": "s3cret"}
    SmtpServer(NotifyEmail(**login, ca_file=str(ca_file))).send(
        [_message("ana@example.org", "k4")], lambda message, why: None
    )
    ((logged_in, to, _),) = inbox.received
    assert (logged_in, to, inbox.tls[0]) == (True, ["ana@example.org"], True)
    # Another office's CA (or the system's): the certificate is refused, no plain fallback.
    stranger = tls_smtp[2].parent / "other-ca.pem"
    stranger.write_bytes(make_ca("Someone else").cert)
    for config in (NotifyEmail(**login, ca_file=str(stranger)), NotifyEmail(**login)):
        with pytest.raises(Unreachable, match=r"certificate is not trusted.*nothing was sent"):
            SmtpServer(config).send([_message("ben@example.org", "k5")], lambda m, why: None)
    assert len(inbox.received) == 1


def test_a_push_is_never_posted_into_the_office_nor_crashes_on_a_subscription_no_phone_made() -> (
    None
):
    posted: list[str] = []

    def take(path: str, headers: dict[str, str], body: bytes) -> int:
        posted.append(path)
        return 201

    with posts_to(take) as port:
        endpoint = f"http://127.0.0.1:{port}/push"
        # 0x04 and 64 bytes: the form of a p256dh, but no point on the curve.
        keys = {"p256dh": "B" + "A" * 86, "auth": "A" * 22}
        address = json.dumps({"endpoint": endpoint, "keys": keys})
        message = Message("k4", "t1", "push", address, '{"title": "A-001"}', 0, "")
        outcomes: list[str] = []
        key = new_private_key()
        # A hub that is not the tests' one: a name (here an address) inside is never posted to.
        PushServices(NotifyPush(vapid_private_key=key)).send(
            [message], lambda m, why: outcomes.append(why)
        )
        # Loopback allowed, the keys cannot be encrypted for: the subscription is dropped.
        tests = NotifyPush(vapid_private_key=key, loopback_http=True)
        PushServices(tests).send([message], lambda m, why: outcomes.append(why))
        # A URL that only the HTTP client finds wrong costs a try, never the sender's life.
        unsendable = _subscription(f"{endpoint}/a\x01b")
        message = Message("k5", "t1", "push", unsendable, '{"title": "A-001"}', 0, "")
        PushServices(tests).send([message], lambda m, why: outcomes.append(why))
    assert outcomes[:2] == [GONE, GONE] and posted == []
    assert outcomes[2] == "the push service cannot be reached: InvalidURL"


def test_a_push_service_that_trickles_costs_its_message_a_try_never_the_others_their_turn() -> None:
    """A resident may name any https host as their push service: one that answers a byte
    at a time, or endlessly, must not hold the sender (nor fill its memory)."""
    posted: list[str] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            posted.append(self.path)
            if self.path == "/slow":  # headers a byte at a time, never finished
                self.wfile.write(b"HTTP/1.1 201 Created\r\nX-Slow: ")
                while not stop.wait(0.05):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                return
            self.send_response(201)
            endless = self.path == "/endless"  # then a body that never ends
            self.send_header("Content-Length", str(10**12 if endless else 0))
            self.end_headers()
            while endless and not stop.wait(0.01):
                self.wfile.write(b"x" * 65536)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    messages = [
        Message(key, "t1", "push", _subscription(f"{base}/{key}"), '{"title": "A-001"}', 0, "")
        for key in ("slow", "endless", "fast")
    ]
    config = NotifyPush(vapid_private_key=new_private_key(), timeout=1, loopback_http=True)
    outcomes: dict[str, str] = {}
    sending = threading.Thread(
        target=PushServices(config).send,
        args=(messages, lambda m, why: outcomes.__setitem__(m.key, why)),
        daemon=True,
    )
    sending.start()
    sending.join(timeout=15)  # generous for a loaded machine; the budget is 1 s a message
    stop.set()
    server.shutdown()
    server.server_close()
    assert not sending.is_alive(), "a trickling push service held the sender"
    assert sorted(posted) == ["/endless", "/fast", "/slow"]
    assert outcomes["fast"] == outcomes["endless"] == ""  # taken: what follows is not read
    assert "cannot be reached" in outcomes["slow"]


def _subscription(endpoint: str) -> str:
    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = point.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    keys = {"p256dh": b64url(raw), "auth": b64url(bytes(16))}
    return json.dumps({"endpoint": endpoint, "keys": keys})


def test_the_desks_waiting_alert_names_the_channel_that_waits() -> None:
    assert Worker._down_text("push", "no answer").startswith("Push notifications to residents")
    assert Worker._down_text("email", "no answer").startswith("E-mails to residents")
    assert Worker._down_text("sms", "no answer").startswith("Text messages to residents")
