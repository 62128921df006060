"""A flood of one message becomes a few lines and a count; no secret reaches the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from nowserving.hub.quietlog import Redact, Summarise


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.traceback = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.traceback += record.exc_text or ""


@pytest.fixture
def logged() -> Iterator[tuple[Lines, list[float]]]:
    now = [0.0]
    handler = Lines()
    handler.addFilter(Summarise(burst=3, window=60, clock=lambda: now[0]))
    logger = logging.getLogger("test.quietlog")
    logger.addHandler(handler)
    logger.propagate = False
    yield handler, now
    logger.removeHandler(handler)


def test_repeats_are_counted_not_written(logged: tuple[Lines, list[float]]) -> None:
    handler, now = logged
    log = logging.getLogger("test.quietlog")
    for n in range(1535):
        log.warning("refused a connection from %s", f"10.0.{n // 256}.{n % 256}")
    log.warning("something else")
    assert len(handler.lines) == 4  # three of the flood, one of the other kind
    now[0] = 61
    log.warning("refused a connection from %s", "10.0.0.1")  # a new window: it says the count
    assert handler.lines[4:] == [
        "… and 1,532 more like this in the last minute: refused a connection from 10.0.0.0",
        "refused a connection from 10.0.0.1",
    ]


def test_secrets_are_redacted_and_repeats_still_counted_by_template() -> None:
    handler = Lines()
    handler.addFilter(Redact(["a-configured-secret"]))  # first, as the hub's handler has it
    handler.addFilter(Summarise(burst=2, window=60, clock=lambda: 0.0))
    logger = logging.getLogger("test.quietlog.redact")
    logger.addHandler(handler)
    logger.propagate = False
    token, session = "Q3xv9Kk2mP0aZ8rT1wYb_c", "s3ss10n-Tok3n_abcdefghijklmnopqrstuvwxyz0123"
    try:
        for path in (f"/t/{token}", "/c/K7M2P9QX?lang=en", f"/api/tickets/{token}/leave"):
            logger.warning("%s - %s", "10.0.0.9", path)  # one kind: two lines pass
        logger.warning("sign-in with %s", '{"staff": "maria", "pin": "4321"}')
        logger.warning("device used %s", "a-configured-secret")
        logger.warning("header was Authorization: Bearer %s", session)
        logger.warning("ticket 0123456789abcdef01234567 of event issued")  # ids stay readable
        try:
            raise ValueError(f"no ticket {token}")
        except ValueError:
            logger.exception("while serving %s", "/c/K7M2P9QX")
    finally:
        logger.removeHandler(handler)
    assert handler.lines == [
        "10.0.0.9 - /t/…",
        "10.0.0.9 - /c/…?lang=en",
        'sign-in with {"staff": "maria", "pin": "…"}',
        "device used …",
        "header was Authorization: …",
        "ticket 0123456789abcdef01234567 of event issued",
        "while serving /c/…",
    ]
    assert token not in handler.traceback and "no ticket …" in handler.traceback


def test_residents_phone_numbers_and_addresses_are_redacted() -> None:
    from nowserving.hub.quietlog import redact

    line = 'sms to +15105550147 and +49 30 1234-5678, mail to "ana.b+q@mail.example.org"'
    assert redact(line) == 'sms to … and …, mail to "…"'
    # Counts, times, versions and ids stay readable.
    kept = "… and 1,532 more; 12:30:01; v1.4.6; 200 of +3 lines; ticket 0123456789abcdef"
    assert redact(kept) == kept


def test_what_a_mail_server_or_gateway_says_is_kept_without_the_address_or_key() -> None:
    from nowserving.hub.quietlog import redact

    refusal = "550 5.1.1 <jane.doe@example.org>: Recipient address rejected"
    assert "jane" not in redact(refusal) and "Recipient address rejected" in redact(refusal)
    down = "ConnectError: https://sms.example/send?api_key=k3yK3yK3y&x=1 refused"
    assert "k3yK3yK3y" not in redact(down) and "refused" in redact(down)
