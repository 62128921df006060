"""`nowserving hub`: serve the office's store over HTTP on the LAN."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from nowserving.config import load_config
from nowserving.hub.app import create_app
from nowserving.paths import data_dir
from nowserving.service import LocalService
from nowserving.store import EventStore

log = logging.getLogger("nowserving.hub")


def main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.public_url:
        office = config.office.model_copy(update={"public_base_url": args.public_url.rstrip("/")})
        config = config.model_copy(update={"office": office})
    folder = data_dir(args.data)
    store = EventStore(folder / "office.sqlite")
    service = LocalService(store, config, device="hub")
    host = args.host or config.hub.host
    port = args.port or config.hub.port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    log.info("%s: store %s, listening on %s:%s", config.office.name, store.path, host, port)
    uvicorn.run(
        create_app(service),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,  # X-Forwarded-For: see nowserving.hub.clients
        timeout_graceful_shutdown=3,
    )
    store.close()
    return 0
