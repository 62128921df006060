"""`nowserving hub`: serve the office's store over HTTP on the LAN."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

import uvicorn

from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.errors import ConfigError
from nowserving.hub.app import create_app
from nowserving.hub.guard import ConnectionGuard, guarded_protocol
from nowserving.hub.quietlog import Summarise, start_sweeping
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.store.registry import Registry
from nowserving.system.files import readable_by_others
from nowserving.system.paths import data_dir

log = logging.getLogger("nowserving.hub")


def main(args: argparse.Namespace) -> int:
    summarise = _bounded_log()
    folder = data_dir(args.data)
    store = EventStore(folder / "office.sqlite")
    config = _office(store, args.config)
    if args.public_url:
        office = config.office.model_copy(update={"public_base_url": args.public_url.rstrip("/")})
        config = config.model_copy(update={"office": office})
    service = LocalService(store, config, device="hub")
    host = args.host or config.hub.host
    port = args.port or config.hub.port
    log.info("%s: store %s, listening on %s:%s", config.office.name, store.path, host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service),
            host=host,
            port=port,
            http=guarded_protocol(ConnectionGuard(config.hub)),
            log_config=None,  # our root handler, with its summarising filter, logs for uvicorn
            log_level="info",
            access_log=False,  # a line per request is how a flood fills the disk
            proxy_headers=False,  # X-Forwarded-For: see nowserving.hub.clients
            timeout_graceful_shutdown=3,
        )
    )
    stop_sweeping = start_sweeping(summarise)
    # uvicorn re-raises SIGTERM once it has shut down; exit through `finally` then.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    finally:
        stop_sweeping.set()
        summarise.sweep(final=True)
        store.close()
    return 0


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


def _bounded_log() -> Summarise:
    """Log to stderr (the journal), a few lines per kind of message and minute."""
    summarise = Summarise()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    handler.addFilter(summarise)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return summarise


def _warn_if_readable(config: Path) -> None:
    who = readable_by_others(config)
    if who is not None:
        log.warning(
            "%s holds every device secret and PIN hash but %s can read it: "
            "chmod 600 it (or 640 with the hub's own group)",
            config,
            who,
        )
