"""`nowserving city --database URL`: serve the city page, API and dashboard with uvicorn."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import psycopg
import uvicorn

from nowserving.city.app import create_app
from nowserving.domain.errors import ConfigError
from nowserving.store.city import migrate, reason
from nowserving.store.city_views import CityReader

MIN_TOKEN = 24  # characters: a token guessed online, at any rate, is never found


def admin_token(path: str | None) -> str | None:
    """The city admin token from its file (first line), or None: no dashboard."""
    if path is None:
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip().splitlines()[0].strip()
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the city admin token ({exc})") from None
    if len(token) < MIN_TOKEN:
        raise ConfigError(f"{path}: the city admin token must be at least {MIN_TOKEN} characters")
    return token


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    token = admin_token(args.admin_token_file)
    try:
        migrate(args.database)  # a city may start its service before any office streams
    except psycopg.Error as exc:
        raise ConfigError(f"the city database cannot be used: {reason(exc)}") from None
    app = create_app(CityReader(args.database), admin_token=token, city=args.name)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
