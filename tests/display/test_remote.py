"""A display on another PC follows the hub's live stream, and survives the hub going away."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from display.app import build_remote
from nowserving import __version__
from nowserving.domain.config import load_config
from nowserving.sync.board_stream import HubBoard
from nowserving.sync.client import HubClient
from tests.hub.conftest import DISPLAY, start_hub, stop_hub

pytestmark = pytest.mark.gui


def test_across_the_lan_through_the_hub(qtbot: QtBot, tmp_path: Path) -> None:
    hub = start_hub(tmp_path)
    try:
        config = load_config(hub.config)
        source = HubBoard(hub.url, DISPLAY, config)
        window = build_remote(config, source, tts_engine="mock")
        qtbot.addWidget(window)
        window.setFixedSize(1280, 720)
        window.show()
        # Calls on the first board are not announced (they were made before it started):
        # call only once the display holds a board, however slowly the machine connects.
        qtbot.waitUntil(lambda: window._shown is not None, timeout=30_000)
        clerk = hub.sign_in("maria")
        hub.issue("licenses")
        called_at = time.perf_counter()
        hub.post("/api/counters/c3/call-next", clerk)
        qtbot.waitUntil(lambda: window.now_label.text() == "B-001", timeout=10_000)
        # Pushed live, not on a poll or reconnect; bench_display.py --hub measures the latency.
        assert time.perf_counter() - called_at < 5
        qtbot.waitUntil(  # spoken after the chime, in its turn
            lambda: any("B 0 0 1" in text for _, text in window.announcer.speaker.spoken),
            timeout=10_000,
        )

        stop_hub(hub)  # the hub's PC is switched off
        qtbot.waitUntil(window.banner.isVisible, timeout=5000)
        assert window.now_label.text() == "B-001"  # the last state stays up

        restarted = start_hub(tmp_path, port=int(hub.url.rsplit(":", 1)[1]))
        qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15_000)
        restarted.issue("licenses")
        restarted.post("/api/counters/c3/call-next", restarted.sign_in("maria"))
        qtbot.waitUntil(lambda: window.now_label.text() == "B-002", timeout=10_000)
        source.close()
        hub = restarted
    finally:
        stop_hub(hub)


def test_a_display_across_the_lan_reports_its_health(qtbot: QtBot, tmp_path: Path) -> None:
    hub = start_hub(tmp_path)
    try:
        source = HubBoard(hub.url, DISPLAY, load_config(hub.config), health_every=0.2)

        def reported() -> dict[str, Any]:
            rows = HubClient(hub.url, DISPLAY).call("GET", "/api/sync/status")
            return next(row for row in rows if row["device"] == "display-1")

        qtbot.waitUntil(lambda: reported()["rss_mb"] is not None, timeout=10_000)
        row = reported()
        assert row["last_seen"] < 10 and row["version"] == __version__
        first = row["uptime_s"]
        qtbot.waitUntil(lambda: reported()["uptime_s"] > first, timeout=10_000)  # reported again
        source.close()
    finally:
        stop_hub(hub)
