"""`nowserving desk`: the front-desk console on a clerk's PC."""

from __future__ import annotations

import argparse

from desk.window import DeskWindow
from nowserving_qt.bootstrap import application, open_session, run


def main(args: argparse.Namespace) -> int:
    app = application("desk")
    session = open_session(args, "desk")
    window = DeskWindow(session.config, session.service, args.counter)
    window.resize(1100, 760)
    if args.windowed:
        window.show()
    else:
        window.showMaximized()
    return run(app, args)
