"""`nowserving hub`: serve the office's store over HTTPS on the LAN.

Two listeners in one process and event loop: `[hub] host/port` for devices and
staff (everything), `[hub] public_host/public_port` for residents only (the one the
guest Wi-Fi may reach; every other address there is a plain 404).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import signal
import ssl
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import uvicorn

from nowserving.domain.config import Hub as HubSettings
from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.errors import ConfigError
from nowserving.hub.guard import ConnectionGuard, guarded_protocol
from nowserving.hub.quietlog import Redact, Summarise, start_sweeping
from nowserving.hub.starting import Built, Starting
from nowserving.store.eventstore import EventStore
from nowserving.store.registry import Registry
from nowserving.system.files import readable_by_others
from nowserving.system.paths import data_dir, sample_config

log = logging.getLogger("nowserving.hub")


def main(args: argparse.Namespace) -> int:
    redact, summarise = _bounded_log()
    folder = data_dir(args.data)
    store = EventStore(folder / "office.sqlite")
    config = _office(store, args.config)
    redact.hide(device.secret for device in config.devices if device.secret)
    # An apprise URL carries the provider's keys anywhere in it (login, path, query).
    sms = config.notify.sms
    redact.hide(s for s in (sms.auth_value, *(sms.apprise or "").split("{to}")) if s and len(s) > 7)
    config = _with_overrides(config, args)
    check_listeners(config, Registry(store))
    settings = config.hub
    scheme = "https" if settings.tls else "http"
    log.info(
        "%s: store %s; devices and staff on %s://%s:%s, residents on %s://%s:%s",
        config.office.name,
        store.path,
        scheme,
        settings.host,
        settings.port,
        scheme,
        settings.public_host,
        settings.public_port,
    )
    # Listening first: the application is built (and the day restored) meanwhile.
    starting: Starting = Starting(lambda: _build(store, config, starting), config.office.name)
    servers = [
        _server(starting.staff, settings, settings.host, settings.port, lifespan="on"),
        # The same app behind a filter: one store, one live hub, one set of limits.
        _server(starting.public, settings, settings.public_host, settings.public_port),
    ]
    stop_sweeping = start_sweeping(summarise)
    try:
        asyncio.run(_serve(servers, starting))
    finally:
        stop_sweeping.set()
        summarise.sweep(final=True)
        store.close()
    if starting.failed is not None:
        raise starting.failed
    return 0


def _build(store: EventStore, config: OfficeConfig, starting: Starting) -> Built:
    """The hub's application over `store`, with today restored (in a worker thread)."""
    from nowserving.hub.context import PLAIN_HTTP, Hub
    from nowserving.hub.fast_issue import FastIssue, takes
    from nowserving.service.local import LocalService

    if not config.hub.tls:
        log.warning(PLAIN_HTTP)
    # Kiosks' tickets first: FastIssue needs today, not FastAPI (its import is the longest
    # part of the rest). The residents' listener has no issue route.
    hub = Hub(LocalService(store, config, device="hub"))
    starting.offer(FastIssue(hub, starting.later), takes)
    starting.answer_offered()
    with _without_pydantic_v1():
        from nowserving.hub.app import FIRST, create_app, public_only, the_rest, unbuilt
        from nowserving.hub.deferred import answers_now

        # The first requests' routes only: the hub serves them while it builds the others.
        app = create_app(hub.service, first=FIRST, hub=hub)
    public, later = public_only(app), unbuilt()
    staff = FastIssue(hub, app)

    def rest() -> Callable[[], None]:
        with _without_pydantic_v1():
            return the_rest(app, public)

    return Built(
        staff,
        public,
        lambda: app.router.lifespan_context(app),
        early=lambda scope: answers_now(app.routes, later, scope),
        rest=rest,
    )


@contextlib.contextmanager
def _without_pydantic_v1() -> Iterator[None]:
    """Build the routes without importing `pydantic.v1` (0.1-0.2 s of the hub's start).

    FastAPI imports it only to refuse pydantic 1 models, which the hub has none of; when
    it cannot be imported FastAPI takes every model for a pydantic 2 one (`_compat.shared`).
    Whoever needs it later imports it as usual (FastAPI, for a route it builds then).
    """
    blocked = "pydantic.v1" not in sys.modules
    if blocked:
        sys.modules["pydantic.v1"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        if blocked:
            del sys.modules["pydantic.v1"]


def _office(store: EventStore, path: str | None) -> OfficeConfig:
    """The office the hub serves: the file's, when it is new to this store (the first
    start, or the file was edited since); else the one in the store, with the changes
    made at the hub since."""
    registry = Registry(store)
    if path is not None:
        config = load_config(path)
        _warn_if_readable(Path(path))
        if registry.import_file(config, Path(path).read_text(encoding="utf-8")):
            log.info("imported the office from %s", path)
    stored = registry.office()
    if stored is None:
        raise ConfigError("This hub has no office yet: start it once with --config FILE.")
    return stored[1]


def _with_overrides(config: OfficeConfig, args: argparse.Namespace) -> OfficeConfig:
    """The config with what the command line gave instead (addresses, public URL)."""
    given = {
        key: value
        for key in ("host", "port", "public_host", "public_port")
        if (value := getattr(args, key, None))
    }
    office = config.office
    if args.public_url:
        office = office.model_copy(update={"public_base_url": args.public_url.rstrip("/")})
    # Validated again: the two listeners must still differ.
    hub = HubSettings.model_validate({**config.hub.model_dump(), **given})
    return config.model_copy(update={"office": office, "hub": hub})


def check_listeners(config: OfficeConfig, registry: Registry | None = None) -> None:
    """ConfigError unless the hub may serve as configured: HTTPS with a readable certificate
    (or plain HTTP allowed explicitly), and the sample's well-known secrets on loopback only."""
    settings = config.hub
    if settings.tls:
        assert settings.tls_cert is not None and settings.tls_key is not None
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                settings.tls_cert, settings.tls_key
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"[hub] tls_cert {settings.tls_cert} / tls_key {settings.tls_key}: "
                f"cannot be used ({exc})"
            ) from None
    elif not settings.allow_plain_http:
        raise ConfigError(
            "[hub] has no tls_cert and tls_key: `nowserving init` makes an office CA and a "
            "hub certificate; to serve plain HTTP anyway, set allow_plain_http = true"
        )
    open_to = [h for h in (settings.host, settings.public_host) if not _loopback(h)]
    known = _sample_secrets()
    held = [device.secret for device in config.devices if device.secret in known]
    if registry is not None:  # imported from a file: kept in the registry (hashed)
        held += [s for s in known if (r := registry.by_secret(s)) and r.revoked_at is None]
    if open_to and held:
        raise ConfigError(
            f"this config holds the sample office's device secrets, which everyone knows, "
            f"and the hub would listen on {open_to[0]}: run `nowserving init` for a config "
            "with fresh secrets and PINs, or listen on 127.0.0.1 only"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _sample_secrets() -> set[str]:
    return {device.secret for device in load_config(sample_config()).devices}


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `_serve` (two servers share them)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(
    app: Any, settings: HubSettings, host: str, port: int, lifespan: Literal["on", "off"] = "off"
) -> Any:
    return _Server(
        uvicorn.Config(
            app,
            interface="asgi3",  # a bound method: uvicorn's guess would take it for ASGI 2
            host=host,
            port=port,
            http=guarded_protocol(ConnectionGuard(settings)),  # each listener its own caps
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
            lifespan=lifespan,  # the background tasks run once, with the staff listener
            log_config=None,  # our root handler, with its filters, logs for uvicorn
            log_level="info",
            access_log=settings.access_log,  # off: a line per request is how a flood fills the disk
            proxy_headers=False,  # X-Forwarded-For: see nowserving.hub.clients
            timeout_graceful_shutdown=3,
        )
    )


async def _serve(servers: list[Any], starting: Starting) -> None:
    """Run every server until SIGTERM or SIGINT (or a failed start) stops them all."""

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    starting.stop = stop

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve() for server in servers))


def _bounded_log() -> tuple[Redact, Summarise]:
    """Log to stderr (the journal): no secrets, a few lines per kind of message and minute."""
    redact, summarise = Redact(), Summarise()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    handler.addFilter(redact)  # first: the summaries sample what is left
    handler.addFilter(summarise)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return redact, summarise


def _warn_if_readable(config: Path) -> None:
    who = readable_by_others(config)
    if who is not None:
        log.warning(
            "%s holds every device secret and PIN hash but %s can read it: "
            "chmod 600 it (or 640 with the hub's own group)",
            config,
            who,
        )
