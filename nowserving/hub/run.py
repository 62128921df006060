"""`nowserving hub`: serve the office's store over HTTP on the LAN."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

import uvicorn

from nowserving.domain.config import load_config
from nowserving.hub.app import create_app
from nowserving.hub.guard import ConnectionGuard, guarded_protocol
from nowserving.hub.quietlog import Summarise, start_sweeping
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.files import readable_by_others
from nowserving.system.paths import data_dir

log = logging.getLogger("nowserving.hub")


def main(args: argparse.Namespace) -> int:
    summarise = _bounded_log()
    config = load_config(args.config)
    _warn_if_readable(Path(args.config))
    if args.public_url:
        office = config.office.model_copy(update={"public_base_url": args.public_url.rstrip("/")})
        config = config.model_copy(update={"office": office})
    folder = data_dir(args.data)
    store = EventStore(folder / "office.sqlite")
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
