"""The hub's watch over each line's service level: an alert on every desk when a line is
about to miss its target or has missed it, cleared when it is met again.

The alert is a device alert of the hub ("service_level.<line>"), so every desk and the
city's copy of the log see it like any other; it changes only when the level does.
"""

from __future__ import annotations

import anyio.to_thread

from nowserving.hub.tasks import Supervisor
from nowserving.service.local import LocalService

CHECK_S = 30.0
PREFIX = "service_level."


def alerts_due(service: LocalService, shown: dict[str, str]) -> dict[str, str]:
    """The alerts to write (key -> message, "" clears one), given those `shown` now."""
    config = service.config
    checks = service.service_levels()
    wanted = {
        PREFIX + line.id: checks[line.id].sentence(
            line.service_level, config.text(line.name, config.default_language)
        )
        for line in config.lines
        if line.service_level is not None and line.id in checks
    }
    due = {key: message for key, message in wanted.items() if shown.get(key, "") != message}
    due.update({key: "" for key in shown if key not in wanted and shown[key]})
    return due


def _shown(service: LocalService) -> dict[str, str]:
    device = service.clock.device
    return {
        a.alert: a.message
        for a in service.board().alerts
        if a.alert.startswith(PREFIX) and a.device == device
    }


async def watch_service_levels(service: LocalService, supervisor: Supervisor) -> None:
    """Check every CHECK_S (a target set at the admin page counts from the next check);
    write only what changed."""
    while True:
        shown = await anyio.to_thread.run_sync(_shown, service)
        for key, message in (await anyio.to_thread.run_sync(alerts_due, service, shown)).items():
            await anyio.to_thread.run_sync(service.report_alert, key, message)
        await supervisor.ok("service_levels")
        await supervisor.sleep(CHECK_S)
