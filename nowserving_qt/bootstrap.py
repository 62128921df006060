"""Starting a Qt app: the QApplication, fonts, and the service it works with."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication

from nowserving.domain.config import Device, OfficeConfig, load_config
from nowserving.domain.errors import ConfigError
from nowserving.service.interface import Service
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.store.registry import Registry
from nowserving.sync.pairing import OfficeFile, load_credential, pair
from nowserving.sync.replica import ReplicaService, open_replica
from nowserving.system.paths import data_dir
from nowserving_qt import qtlog
from nowserving_qt.checks import require_screen
from nowserving_qt.systemd import start_watchdog

# Latin, Vietnamese, Arabic and CJK each find a face here; Qt falls back along the list.
FONT_FAMILIES = ["Noto Sans", "DejaVu Sans", "Noto Sans Arabic", "Noto Sans CJK SC"]
LOG_FORMAT = "%(asctime)s %(name)s: %(message)s"


def application(name: str) -> QApplication:
    """The one QApplication of this process, with Nowserving's defaults."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    require_screen()
    # force: a library imported before (python-escpos) set up logging its own way
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, force=True)
    qtlog.messages.flush()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(sys.argv[:1])
    app.setApplicationName(f"nowserving-{name}")
    app.setApplicationDisplayName("Nowserving")
    app.setStyle("Fusion")
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    app.setFont(font)
    return app


@dataclass(frozen=True)
class Session:
    """What an app runs with: the office, this device, and the service."""

    config: OfficeConfig
    device: Device
    service: Service


def run(app: QApplication, args: argparse.Namespace) -> int:
    """The event loop; `--exit-after` ends it on its own (installation smoke tests)."""
    seconds = getattr(args, "exit_after", None)
    if seconds:
        QTimer.singleShot(int(seconds * 1000), app.quit)
    QTimer.singleShot(0, lambda: start_watchdog(app))  # once the window is up
    return app.exec()


def pick_device(config: OfficeConfig, role: str, requested: str | None) -> Device:
    """The device entry for this app: the one named, or the first of its role."""
    candidates = [d for d in config.devices if d.role == role]
    if requested:
        for device in config.devices:
            if device.id == requested:
                if device.role != role:
                    raise ConfigError(f"Device {requested!r} is a {device.role}, not a {role}.")
                return device
        raise ConfigError(f"No device {requested!r} in the config's [[devices]].")
    if not candidates:
        raise ConfigError(f"The config has no device with role = {role!r} in [[devices]].")
    return candidates[0]


def device_setup(
    args: argparse.Namespace, role: str
) -> tuple[OfficeConfig, Device, OfficeFile | None]:
    """The office and this device: paired (`--hub URL [--pair CODE]`, the office kept in
    the data folder and followed from the hub), or from `--config FILE` as before."""
    hub, config_file = getattr(args, "hub", None), getattr(args, "config", None)
    if getattr(args, "pair", None) and not hub:
        raise ConfigError("--pair CODE needs --hub URL: the hub to pair with.")
    if hub and (getattr(args, "pair", None) or not config_file):
        folder = data_dir(args.data)
        if args.pair:
            ca_file = getattr(args, "ca", None)
            credential = pair(
                hub,
                args.pair,
                folder,
                ca_sha256=getattr(args, "ca_sha256", None),
                ca_file=Path(ca_file) if ca_file else None,
            )
            logging.getLogger(__name__).info("paired as %s", credential.device.id)
        else:
            credential = load_credential(folder, role)
        office = OfficeFile(folder, credential.device.id)
        return office.load()[1], credential.device, office
    if not config_file:
        raise ConfigError(f"Give --config FILE, or --hub URL on a paired {role}.")
    config = load_config(config_file)
    return config, pick_device(config, role, getattr(args, "device", None)), None


def open_session(args: argparse.Namespace, role: str) -> Session:
    """The office, this device and its service, for an app started from the CLI."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config, device, office = device_setup(args, role)
    folder = data_dir(args.data)
    if getattr(args, "hub", None):  # another PC: a replica that syncs with the hub
        replica = open_replica(folder / f"replica-{device.id}.sqlite")
        return Session(
            config, device, ReplicaService(replica, config, device, args.hub, office=office)
        )
    store = EventStore(folder / "office.sqlite")
    registry = Registry(store)  # on the hub's PC: the office it holds, with changes made there
    held = registry.office()
    if held is not None:
        config = held[1]
    service = LocalService(store, config, device.id, registry=registry if held else None)
    return Session(config, device, service)
