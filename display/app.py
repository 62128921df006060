"""`nowserving display`: the lobby screen, full screen on a TV unless --windowed."""

from __future__ import annotations

import argparse
import logging

from display.announcer import Announcer
from display.window import DisplayWindow
from nowserving.domain.config import OfficeConfig
from nowserving.service.interface import BoardSource
from nowserving.sync.board_stream import HubBoard
from nowserving_qt.bootstrap import Session, application, device_setup, open_session, run
from nowserving_qt.checks import startup_problems
from nowserving_qt.speech import speaker_for


def build(session: Session, tts_engine: str | None = None) -> DisplayWindow:
    """The display over this PC's store, with its announcer (not shown yet)."""
    return build_remote(session.config, session.service, tts_engine)


def build_remote(
    config: OfficeConfig, source: BoardSource, tts_engine: str | None = None
) -> DisplayWindow:
    """The display over any board source (local service or the hub's stream)."""
    settings = config.display
    languages = settings.announce_in or config.office.languages
    announcer = Announcer(
        speaker_for(settings.speech, settings.volume, engine=tts_engine, languages=languages),
        languages,
        settings.volume,
        max_age=settings.announce_max_age,
    )
    window = DisplayWindow(config, source, announcer)
    announcer.setParent(window)
    return window


def main(args: argparse.Namespace) -> int:
    app = application("display")
    if args.hub:  # on another PC: follow the hub's live board stream
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        config, device, office = device_setup(args, "display")
        startup_problems(config, needs_sound=True)
        board = HubBoard(args.hub, device.secret, config, office=office)
        window = build_remote(config, board)
    else:
        session = open_session(args, "display")
        startup_problems(session.config, needs_sound=True)
        window = build(session)
    if args.windowed:
        window.resize(1280, 720)
        window.show()
    else:
        window.showFullScreen()
    return run(app, args)
