"""`nowserving display`: the lobby screen, full screen on a TV unless --windowed."""

from __future__ import annotations

import argparse
import os

from display.announcer import Announcer
from display.window import DisplayWindow
from nowserving_qt.bootstrap import Session, application, open_session
from nowserving_qt.speech import Speaker


def build(session: Session, tts_engine: str | None = None) -> DisplayWindow:
    """The display window with its announcer (not shown yet)."""
    speaker = Speaker(tts_engine or os.environ.get("NOWSERVING_TTS_ENGINE") or None)
    announcer = Announcer(speaker, session.config.office.languages)
    window = DisplayWindow(session.config, session.service, announcer)
    announcer.setParent(window)
    return window


def main(args: argparse.Namespace) -> int:
    app = application("display")
    window = build(open_session(args, "display"))
    if args.windowed:
        window.resize(1280, 720)
        window.show()
    else:
        window.showFullScreen()
    return app.exec()
