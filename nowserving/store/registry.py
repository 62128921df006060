"""The hub's registry: the office it serves, its devices and their one-time pairing codes.

It lives in the hub's own store, the only place that holds secrets: device secrets and
pairing codes as hashes, the office (with the staff's PIN hashes) as one JSON document
with a version that goes up with every change, so devices can tell that theirs is old.
The TOML file is imported when the hub starts with one it has not imported before.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from nowserving.domain.clock import wall_ms
from nowserving.domain.config import Device, OfficeConfig, office_document, office_from_document
from nowserving.domain.pairing import (
    CODE_SECONDS,
    PairingRefused,
    digest,
    new_code,
    next_device_id,
    normalize_code,
)
from nowserving.domain.security import new_secret
from nowserving.store.eventstore import EventStore

_DEVICE_COLUMNS = "id, role, lines, counters, paired_at, revoked_at"


@dataclass(frozen=True)
class DeviceRecord:
    """One device as the hub knows it (never its secret)."""

    id: str
    role: str
    lines: list[str]
    counters: list[str]
    paired_at: int  # ms
    revoked_at: int | None  # ms; set: every request with its secret is refused

    def device(self) -> Device:
        """As the permission rules take it (no secret: the hub holds only its hash)."""
        return Device(id=self.id, role=self.role, lines=self.lines, counters=self.counters)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Pairing:
    """A fresh pairing code (shown once) and what it pairs."""

    code: str
    role: str
    device: str
    expires_at: int  # ms


class Registry:
    """The office, devices and pairing codes in the hub's store."""

    def __init__(self, store: EventStore, now_ms: Callable[[], int] = wall_ms) -> None:
        self.store = store
        self._now = now_ms

    # -- the office --------------------------------------------------------------------

    def office(self) -> tuple[int, OfficeConfig] | None:
        """The office and its version, or None before the first import."""
        text = self.store.get_state("office")
        if not text:
            return None
        config = office_from_document(json.loads(text), "the hub's stored office")
        return int(self.store.get_state("office_version", "0")), config

    def version(self) -> int:
        return int(self.store.get_state("office_version", "0"))

    def import_file(self, config: OfficeConfig, text: str) -> bool:
        """Take the office from a config file's `text` unless this very text was imported
        before (so changes made at the hub survive a restart). Devices it lists keep their
        secrets, unless the hub knows them already (a revoked one stays revoked)."""
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        if self.store.get_state("office_source") == fingerprint:
            return False
        with self.store.write():
            for device in config.devices:
                known = self.store.read("SELECT 1 FROM devices WHERE id = ?", (device.id,))
                if device.secret and not known:
                    self._put_device(device, device.secret)
        self.set_office(config)
        self.store.set_state("office_source", fingerprint)
        return True

    def set_office(self, config: OfficeConfig) -> int:
        """Store a changed office (its devices are kept in the registry, not here)."""
        document = office_document(config.model_copy(update={"devices": []}))
        with self.store.write():
            version = self.version() + 1
            for key, value in (("office", json.dumps(document)), ("office_version", str(version))):
                self.store.db.conn.execute(
                    "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
        return version

    # -- devices -----------------------------------------------------------------------

    def by_secret(self, secret: str, *, quick: bool = False) -> DeviceRecord | None:
        """The device holding `secret` (revoked ones too), or None (`quick`: read with
        `EventStore.peek`, for the hub's event loop)."""
        read = self.store.peek if quick else self.store.read
        rows = read(
            f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE secret_hash = ?", (digest(secret),)
        )
        return _record(rows[0]) if rows else None

    def get(self, device_id: str, *, quick: bool = False) -> DeviceRecord | None:
        read = self.store.peek if quick else self.store.read
        rows = read(f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE id = ?", (device_id,))
        return _record(rows[0]) if rows else None

    def devices(self) -> list[DeviceRecord]:
        rows = self.store.read(f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY role, id")
        return [_record(row) for row in rows]

    def revoke(self, device_id: str) -> bool:
        """Refuse the device's secret, and end the staff sessions opened at it, from now on;
        False if there is no such active device."""
        with self.store.write():
            cursor = self.store.db.conn.execute(
                "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (self._now(), device_id),
            )
            # Its clerks' sessions end with it: a session opened at a revoked desk is refused.
            self.store.db.conn.execute("DELETE FROM sessions WHERE device = ?", (device_id,))
            return cursor.rowcount == 1

    def _put_device(self, device: Device, secret: str) -> None:
        """Add or replace a device (inside `store.write()`); a new secret un-revokes it."""
        self.store.db.conn.execute(
            "INSERT INTO devices (id, role, secret_hash, lines, counters, paired_at, revoked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE SET "
            "role = excluded.role, secret_hash = excluded.secret_hash, "
            "paired_at = excluded.paired_at, revoked_at = NULL",
            (
                device.id,
                device.role,
                digest(secret),
                json.dumps(device.lines),
                json.dumps(device.counters),
                self._now(),
            ),
        )

    # -- pairing -----------------------------------------------------------------------

    def new_pairing(self, role: str, device_id: str | None = None) -> Pairing:
        """A one-time code that pairs a PC as `device_id` (default: the next free id)."""
        now = self._now()
        with self.store.write():
            if device_id is None:
                taken = {row[0] for row in self.store.read("SELECT id FROM devices")}
                taken |= {
                    row[0]
                    for row in self.store.read(
                        "SELECT device FROM pairing WHERE used_at IS NULL AND expires_at > ?",
                        (now,),
                    )
                }
                device_id = next_device_id(role, taken)
            else:
                known = self.store.read("SELECT role FROM devices WHERE id = ?", (device_id,))
                if known and known[0][0] != role:
                    raise PairingRefused(f"{device_id} is a {known[0][0]}, not a {role}.")
            code = new_code()
            expires = now + CODE_SECONDS * 1000
            self.store.db.conn.execute("DELETE FROM pairing WHERE expires_at < ?", (now,))
            self.store.db.conn.execute(
                "INSERT INTO pairing (code_hash, role, device, expires_at) VALUES (?, ?, ?, ?)",
                (digest(normalize_code(code) or code), role, device_id, expires),
            )
        return Pairing(code, role, device_id, expires)

    def redeem(self, code: str) -> tuple[DeviceRecord, str]:
        """The device a code pairs, and its fresh secret (shown this once); the code is
        spent. PairingRefused if it is unknown, used or expired."""
        normal = normalize_code(code)
        if normal is None:
            raise PairingRefused("This is not a pairing code (8 letters and digits).")
        now = self._now()
        with self.store.write():
            rows = self.store.read(
                "SELECT role, device, expires_at, used_at FROM pairing WHERE code_hash = ?",
                (digest(normal),),
            )
            if not rows:
                raise PairingRefused("Unknown pairing code: check it, or make a new one.")
            role, device_id, expires_at, used_at = rows[0]
            if used_at is not None:
                raise PairingRefused("This pairing code was used already: make a new one.")
            if expires_at <= now:
                raise PairingRefused("This pairing code has expired: make a new one.")
            self.store.db.conn.execute(
                "UPDATE pairing SET used_at = ? WHERE code_hash = ?", (now, digest(normal))
            )
            # Paired again (a new PC, a lost disk): it keeps its lines and counters.
            lines: list[str] = []
            counters: list[str] = []
            for row in self.store.read(
                "SELECT lines, counters FROM devices WHERE id = ?", (device_id,)
            ):
                lines, counters = json.loads(row[0]), json.loads(row[1])
            secret = new_secret()
            device = Device(id=device_id, role=role, lines=lines, counters=counters)
            self._put_device(device, secret)
        record = self.get(device_id)
        assert record is not None
        return record, secret


def _record(row: sqlite3.Row) -> DeviceRecord:
    device_id, role, lines, counters, paired_at, revoked_at = row
    return DeviceRecord(
        device_id, role, json.loads(lines), json.loads(counters), paired_at, revoked_at
    )
