"""`nowserving display`: the lobby screen, full screen on a TV unless --windowed."""

from __future__ import annotations

import argparse

from display.announcer import Announcer
from display.window import DisplayWindow
from nowserving.domain.config import OfficeConfig, load_config
from nowserving.service.interface import BoardSource
from nowserving.sync.board_stream import HubBoard
from nowserving_qt.bootstrap import Session, application, open_session, pick_device, run
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
    startup_problems(load_config(args.config), needs_sound=True)
    if args.hub:  # on another PC: follow the hub's live board stream
        config = load_config(args.config)
        device = pick_device(config, "display", args.device)
        window = build_remote(config, HubBoard(args.hub, device.secret, config))
    else:
        window = build(open_session(args, "display"))
    if args.windowed:
        window.resize(1280, 720)
        window.show()
    else:
        window.showFullScreen()
    return run(app, args)
