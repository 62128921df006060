"""The hub's sender: delivers the outbox's messages, text messages through an HTTP
gateway or a provider apprise speaks, e-mails through SMTP and push notifications through
each phone's push service.

A request only ever inserts outbox rows (service/notifier.py); this task reads them,
so a call or an issue never waits for a gateway. Each channel has its own Backoff:
while a gateway cannot be reached, its messages wait (for as long as the day
lasts, without counting against them) and the desk sees a `notify.<channel>`
alert. A message the gateway refuses is tried `[notify] max_tries` times, then
marked failed and counted in the `notify.failed` alert. A message is marked sent
right after the gateway took it; it carries an idempotency key, so the rare crash
in between cannot make a well-behaved gateway send it twice (apprise's providers
take no key: there, that crash may send a text twice).
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from hashlib import sha256
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import anyio.to_thread

from nowserving.domain.config import NotifyEmail, NotifyPush, NotifySms
from nowserving.hub import push
from nowserving.hub.quietlog import redact
from nowserving.hub.tasks import Supervisor
from nowserving.service.local import LocalService
from nowserving.store import outbox
from nowserving.store.outbox import Message
from nowserving.sync.backoff import Backoff

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("nowserving.hub")
POLL_S = 0.2  # how often the outbox is looked at: a call's message leaves within this
FIRST_RETRY_S = 1.0
REFUSED_RETRY_S = 30.0  # a refused message is tried again after this × its tries (capped)
BATCH = 100
GONE = "the push subscription is gone"  # the resident's browser dropped it: forget it


class Unreachable(Exception):
    """The gateway or server could not take any message now (down, busy, 5xx)."""


class Sender(Protocol):
    def send(self, messages: Sequence[Message], done: Callable[[Message, str], None]) -> None:
        """Send each message, calling `done(message, "")` after each one taken, or
        `done(message, why)` when it was refused; raise Unreachable to stop the batch."""


@dataclass
class SmsGateway:
    """A generic HTTP gateway: POST {"to", "text"} as JSON, with an Idempotency-Key."""

    config: NotifySms

    def send(self, messages: Sequence[Message], done: Callable[[Message, str], None]) -> None:
        assert self.config.url is not None
        import httpx  # here: with rich installed, httpx costs the hub's start 0.2 s

        headers = {}
        if self.config.auth_value:
            headers[self.config.auth_header] = self.config.auth_value
        with httpx.Client(timeout=self.config.timeout, headers=headers) as client:
            for message in messages:
                try:
                    answer = client.post(
                        self.config.url,
                        json={"to": message.address, "text": message.text},
                        headers={"Idempotency-Key": message.key},
                    )
                except httpx.HTTPError as exc:
                    raise Unreachable(f"the SMS gateway cannot be reached: {exc}") from None
                status = answer.status_code
                if status >= 500 or status in (408, 429):
                    raise Unreachable(f"the SMS gateway answered {status}")
                done(message, "" if answer.is_success else f"the SMS gateway answered {status}")


@dataclass
class AppriseProvider:
    """A provider that apprise speaks (Twilio, Vonage, ...): `[notify.sms] apprise` with
    the resident's number put in for `{to}`, one notification per message.

    apprise answers only yes or no: a no is a refused try (`max_tries`, then failed), an
    exception a provider out of reach. It sends no idempotency key, so a crash between
    the provider taking a text and the outbox marking it sent may send it twice.
    """

    config: NotifySms

    def send(self, messages: Sequence[Message], done: Callable[[Message, str], None]) -> None:
        import apprise  # only hubs that use it pay for its import

        assert self.config.apprise is not None
        for message in messages:
            url = self.config.apprise.replace("{to}", quote(message.address, safe="+"))
            plugin = apprise.Apprise.instantiate(url)
            if plugin is None:  # the config checks only the shape: apprise knows no such provider
                raise Unreachable("apprise does not understand [notify.sms] apprise")
            plugin.socket_connect_timeout = plugin.socket_read_timeout = self.config.timeout
            try:
                taken = plugin.notify(body=message.text)
            except Exception as exc:
                raise Unreachable(f"the SMS provider cannot be reached: {exc}") from None
            done(message, "" if taken else "the SMS provider did not take it (apprise)")


@dataclass
class PushServices:
    """Web Push: each message goes to the push service of the phone that subscribed.

    There are as many services as browsers, and a resident names theirs, so one that
    cannot be reached, answers slowly or endlessly (or a made-up address) costs its own
    message a try within `timeout` in all, never the others their turn: a batch's posts
    go out together, and no answer's body is read. A service that says the subscription
    is gone (404, 410) gets `done(message, GONE)`.
    """

    config: NotifyPush

    def send(self, messages: Sequence[Message], done: Callable[[Message, str], None]) -> None:
        push.load()  # before the posts start: they would each import it at once
        anyio.run(self._send, messages, done)  # in the worker's thread: a loop of its own

    async def _send(
        self, messages: Sequence[Message], done: Callable[[Message, str], None]
    ) -> None:
        import httpx  # only when there are pushes to send: it is slow to import

        timeout = self.config.timeout
        async with httpx.AsyncClient(timeout=timeout) as client, anyio.create_task_group() as group:
            for message in messages:
                group.start_soon(self._post, client, message, done)

    async def _post(
        self, client: httpx.AsyncClient, message: Message, done: Callable[[Message, str], None]
    ) -> None:
        config = self.config
        assert config.vapid_private_key is not None
        endpoint = json.loads(message.address)["endpoint"]
        loopback = config.loopback_http
        if not await anyio.to_thread.run_sync(
            lambda: push.public_host(endpoint, loopback=loopback)
        ):
            done(message, GONE)  # a name that leads into the office: never posted to
            return
        headers = push.headers(
            config.vapid_private_key, config.subject, endpoint, config.ttl, message.key
        )
        try:
            body = push.encrypt(message.address, message.text.encode())
        except ValueError:  # keys no phone made: sending can never succeed
            done(message, GONE)
            return
        try:
            with anyio.fail_after(config.timeout):
                async with client.stream("POST", endpoint, content=body, headers=headers) as answer:
                    status = answer.status_code  # redirects are not followed: refused too
        except Exception as exc:  # a URL only httpx refuses, a timeout: a try, never a crash
            done(message, f"the push service cannot be reached: {type(exc).__name__}")
            return
        if status in (404, 410):
            done(message, GONE)
        elif answer.is_success:
            done(message, "")
        else:
            done(message, f"the push service answered {status}")


@dataclass
class SmtpServer:
    """An SMTP server; one connection per batch, STARTTLS and login when configured."""

    config: NotifyEmail

    def send(self, messages: Sequence[Message], done: Callable[[Message, str], None]) -> None:
        config = self.config
        assert config.host is not None
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                if config.starttls:
                    # smtplib's default context checks no certificate: anyone on the path
                    # could read residents' addresses and the login. Verify it, or send nothing.
                    smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
                if config.username and config.password:
                    smtp.login(config.username, config.password)
                for message in messages:
                    try:
                        smtp.send_message(self._email(message))
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                        if _temporary(exc):
                            raise Unreachable(f"the mail server said: {_said(exc)}") from None
                        done(message, f"the mail server said: {_said(exc)}")
                        continue
                    done(message, "")
        except ssl.SSLCertVerificationError as exc:
            raise Unreachable(
                f"the mail server's certificate is not trusted ({exc.verify_message}); "
                "nothing was sent (set [notify.email] ca_file to the CA that signed it)"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:  # includes a refused connection
            raise Unreachable(f"the mail server cannot be reached: {_said(exc)}") from None

    def _email(self, message: Message) -> EmailMessage:
        subject, _, body = message.text.partition("\n")  # see service/notifier.py
        email = EmailMessage()
        email["From"] = self.config.sender
        email["To"] = message.address
        email["Subject"] = subject
        # The same message always has the same id: a server or reader can drop a repeat.
        domain = self.config.sender.rpartition("@")[2]
        email["Message-ID"] = f"<{sha256(message.key.encode()).hexdigest()[:32]}@{domain}>"
        email.set_content(body)
        return email


def _temporary(exc: smtplib.SMTPException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return all(400 <= code < 500 for code in codes)
    return 400 <= getattr(exc, "smtp_code", 0) < 500


def _said(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {reply.decode(errors='replace')}" for code, reply in exc.recipients.values()
        )
    return str(exc) or type(exc).__name__


@dataclass
class _Channel:
    name: str
    sender: Sender
    backoff: Backoff
    next_try: float = 0.0
    down: str = ""  # why it cannot be reached now, "" when it can


@dataclass
class Worker:
    """Delivers the outbox of `service`'s store; one per hub.

    Args:
        service: the hub's service (its store and clock).
        supervisor: restarts this task if it fails, and writes alerts.
    """

    service: LocalService
    supervisor: Supervisor
    _channels: list[_Channel] = field(default_factory=list)
    _spent_day: str = ""  # the day whose text-message budget the desk was told is spent

    def __post_init__(self) -> None:
        notify = self.service.config.notify
        senders: dict[str, Sender] = {}
        if notify.sms.url:
            senders["sms"] = SmsGateway(notify.sms)
        elif notify.sms.apprise:
            senders["sms"] = AppriseProvider(notify.sms)
        if notify.email.host:
            senders["email"] = SmtpServer(notify.email)
        if notify.push.vapid_private_key:
            senders["push"] = PushServices(notify.push)
        cap = notify.retry_max_seconds
        self._channels = [
            _Channel(name, sender, Backoff(min(FIRST_RETRY_S, cap), cap, self.supervisor.rand))
            for name, sender in senders.items()
        ]

    async def run(self) -> None:
        """Send what is due, round after round, for good."""
        while True:
            await self.round()
            await self.supervisor.sleep(POLL_S)

    async def round(self) -> None:
        """Each channel whose time has come sends its due messages."""
        for channel in self._channels:
            if self._now() >= channel.next_try:
                await self._deliver(channel)

    def _now(self) -> float:
        return self.service.clock_now() / 1000

    async def _deliver(self, channel: _Channel) -> None:
        store = self.service.store
        batch = await anyio.to_thread.run_sync(outbox.due, store, self._now(), channel.name, BATCH)
        if not batch:
            return
        refused: list[str] = []

        def done(message: Message, why: str) -> None:
            if not why:
                outbox.mark_sent(store, message.key)
                return
            if why == GONE:
                outbox.drop_contact(store, message.ticket, message.channel)
                return
            # A server's refusal may quote the address ("550 <jane@…> rejected"): it is kept
            # and shown to staff and devices, so what could name a person goes first.
            why = redact(why)
            notify = self.service.config.notify
            wait = min(REFUSED_RETRY_S * (message.tries + 1), notify.retry_max_seconds)
            retry = self._now() + wait
            give_up = message.tries + 1 >= notify.max_tries
            outbox.mark_failed_try(store, message.key, why, retry, give_up=give_up)
            if give_up:
                refused.append(f"{message.masked}: {why}")

        try:
            await anyio.to_thread.run_sync(channel.sender.send, batch, done)
        except Unreachable as exc:
            problem = redact(str(exc))  # a gateway's URL may carry its key
            wait = channel.backoff.next()
            channel.next_try = self._now() + wait
            log.warning(
                "notify: %s; %d messages wait; next try in %.1f s", problem, len(batch), wait
            )
            if not channel.down:
                channel.down = problem
                await self._alert(channel.name, self._down_text(channel.name, problem))
        else:
            channel.backoff.reset()
            if channel.down:
                channel.down = ""
                await self._alert(channel.name, "")
        if channel.name == "sms":
            await self._check_budget()
        if refused:
            failed = await anyio.to_thread.run_sync(outbox.failed, store, self.service.today())
            text = f"{len(failed)} message(s) to residents could not be delivered today; the last: "
            await self._alert("failed", (text + refused[-1])[:200])

    async def _check_budget(self) -> None:
        """Tell the desk, once a day, that the texts reached `[notify] sms_per_day` (new
        residents are refused texts; those subscribed are still told); a new day clears it."""
        day = self.service.today()
        if self._spent_day and self._spent_day != day:
            self._spent_day = ""
            await self._alert("budget", "")
        if self._spent_day:
            return
        count = await anyio.to_thread.run_sync(outbox.texts_of_day, self.service.store, day)
        if count >= self.service.config.notify.sms_per_day:
            self._spent_day = day
            await self._alert(
                "budget",
                f"Today's text message budget is reached ({count} of [notify] sms_per_day): "
                "new residents cannot ask for texts until tomorrow; those waiting are still told.",
            )

    @staticmethod
    def _down_text(channel: str, why: str) -> str:
        what = {"sms": "Text messages", "email": "E-mails"}.get(channel, "Push notifications")
        return f"{what} to residents are waiting: {why}."[:200]

    async def _alert(self, name: str, message: str) -> None:
        await anyio.to_thread.run_sync(self.service.report_alert, f"notify.{name}", message)


async def deliver(service: LocalService, supervisor: Supervisor) -> None:
    """The supervised task: nothing to do when no channel is configured."""
    if not service.config.notify.channels:
        return
    await Worker(service, supervisor).run()
