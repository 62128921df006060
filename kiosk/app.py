"""`nowserving kiosk`: start the touchscreen kiosk (full screen unless --windowed)."""

from __future__ import annotations

import argparse

from kiosk.printing import PrintQueue, connector
from kiosk.receipt import write_receipt
from kiosk.window import KioskWindow, PrinterBridge
from nowserving_qt.bootstrap import Session, application, open_session, run
from nowserving_qt.checks import startup_problems
from nowserving_qt.speech import speaker_for


def build(session: Session, *, kiosk_mode: bool, tts_engine: str | None = None) -> KioskWindow:
    """The kiosk window with its printer thread (started) and speaker; not shown yet."""
    config = session.config
    speaker = speaker_for(engine=tts_engine, languages=config.office.languages)
    bridge = PrinterBridge()
    printer = PrintQueue(
        connector(config.printer),
        lambda device, receipt: write_receipt(device, receipt, config.printer.paper_mm),
        bridge.status.emit,
    )
    window = KioskWindow(session, printer, speaker, kiosk_mode=kiosk_mode)
    bridge.setParent(window)
    bridge.status.connect(window.printer_changed)
    printer.start()
    return window


def main(args: argparse.Namespace) -> int:
    app = application("kiosk")
    session = open_session(args, "kiosk")
    startup_problems(session.config, needs_sound=False)
    window = build(session, kiosk_mode=not args.windowed)
    if args.windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.showFullScreen()
    code = run(app, args)
    window.printer.stop()
    return code
