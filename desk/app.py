"""`nowserving desk`: the front-desk console on a clerk's PC."""

from __future__ import annotations

import argparse

from desk.window import DeskWindow
from nowserving.sync.client import HubClient
from nowserving.sync.tls import local_hub_url, verify_for
from nowserving_qt.bootstrap import application, open_session, run


def main(args: argparse.Namespace) -> int:
    app = application("desk")
    session = open_session(args, "desk")
    # The hub this desk syncs with, or on the hub's own PC the hub's port there.
    hub = HubClient(
        args.hub or local_hub_url(session.config),
        session.device.secret,
        verify=verify_for(session.config),
    )
    window = DeskWindow(session.config, session.service, args.counter, hub.device_status)
    window.resize(1100, 760)
    if args.windowed:
        window.show()
    else:
        window.showMaximized()
    return run(app, args)
