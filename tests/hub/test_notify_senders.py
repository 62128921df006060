"""The e-mail sender against a real SMTP server on loopback (aiosmtpd): login, a refused
recipient, a server that is not there, STARTTLS with a trusted and an untrusted certificate."""

from __future__ import annotations

import os
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
from nowserving.domain.notify import normalize_push
from nowserving.hub.notify_worker import (
    PUSH_AT_ONCE,
    PushServices,
    SmtpServer,
    Unreachable,
    Worker,
)
from nowserving.hub.push import b64url, new_private_key
from nowserving.store.outbox import Message
from nowserving.system.certs import make_ca, make_server_cert
from tests.hub.conftest import free_port

WAIT_S = 30.0  # how long the slow push service keeps a request (the test releases it)

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


@pytest.fixture
def push_service() -> Iterator[tuple[int, threading.Event]]:
    """A push service on loopback: /slow never answers until released, others take it."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/slow":
                release.wait(WAIT_S)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], release
    release.set()
    server.shutdown()
    server.server_close()


def test_a_push_service_that_never_answers_does_not_hold_up_the_others(
    push_service: tuple[int, threading.Event],
) -> None:
    port, release = push_service
    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    p256dh = b64url(point.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    auth = b64url(os.urandom(16))

    def message(path: str) -> Message:
        address = normalize_push(
            f"http://127.0.0.1:{port}/{path}", p256dh, auth, loopback_http=True
        )
        return Message(path, "t1", "push", address, '{"title": "A-001"}', 0, "")

    config = NotifyPush(vapid_private_key=new_private_key(), timeout=1)
    outcomes: list[tuple[str, str]] = []
    # The slow one first: one at a time, everyone would wait for it to time out.
    batch = [message("slow"), *(message(f"fast-{n}") for n in range(PUSH_AT_ONCE + 1))]
    PushServices(config).send(batch, lambda m, why: outcomes.append((m.key, why)))
    assert not release.is_set()  # it never answered: the batch ended on the timeout
    fast = [(f"fast-{n}", "") for n in range(PUSH_AT_ONCE + 1)]
    assert sorted(outcomes[:-1]) == fast  # all taken, each told as soon as it was
    assert outcomes[-1] == ("slow", "the push service cannot be reached: ReadTimeout")


def test_the_desks_waiting_alert_names_the_channel_that_waits() -> None:
    assert Worker._down_text("push", "no answer").startswith("Push notifications to residents")
    assert Worker._down_text("email", "no answer").startswith("E-mails to residents")
    assert Worker._down_text("sms", "no answer").startswith("Text messages to residents")
