"""A device's side of pairing: its own credential, and its copy of the office.

`nowserving kiosk --hub URL --pair CODE` trades a one-time code for this device's
credential, kept in the data folder as `<role>.device.json` (0600): the hub's address,
the device's id, role and secret. Nothing else secret is ever stored here. The office
comes with it, and after that from the hub whenever its version moves, into
`<device>.office.json` beside it: the public part for this role (a desk's has the
staff's PIN hashes, so that clerks can sign in while the hub is away).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from nowserving.domain.config import Device, OfficeConfig, office_from_document
from nowserving.domain.errors import ConfigError
from nowserving.sync.client import HubClient
from nowserving.sync.protocol import OfficeCopy, PairResponse
from nowserving.system.files import write_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    """What a paired device holds: where its hub is, and who it is there."""

    hub: str
    device: Device


def credential_path(folder: Path, role: str) -> Path:
    return folder / f"{role}.device.json"


def pair(hub_url: str, code: str, folder: Path) -> Credential:
    """Trade a pairing code for this PC's credential and the office; keep both here."""
    answer = PairResponse.model_validate(
        HubClient(hub_url, "").call("POST", "/api/pair", json={"code": code})
    )
    paired = answer.device
    device = Device(
        id=paired.id,
        role=paired.role,
        secret=paired.secret,
        lines=paired.lines,
        counters=paired.counters,
    )
    record = {"hub": hub_url.rstrip("/"), "device": device.model_dump(mode="json")}
    write_private(credential_path(folder, device.role), json.dumps(record, indent=2) + "\n")
    OfficeFile(folder, device.id).save(answer.office)
    return Credential(hub_url.rstrip("/"), device)


def load_credential(folder: Path, role: str) -> Credential:
    """This PC's credential as a `role`; ConfigError saying how to pair if there is none."""
    path = credential_path(folder, role)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return Credential(str(record["hub"]), Device.model_validate(record["device"]))
    except FileNotFoundError:
        raise ConfigError(
            f"This PC is not paired as a {role} ({path} is missing): on the hub PC run "
            f"`nowserving pair --role {role}`, then here "
            f"`nowserving {role} --hub URL --pair CODE`."
        ) from None
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}): pair this PC again.") from None


class OfficeFile:
    """This device's copy of the office, and its version at the hub."""

    def __init__(self, folder: Path, device_id: str) -> None:
        self.path = folder / f"{device_id}.office.json"

    def load(self) -> tuple[int, OfficeConfig]:
        """The office kept here; ConfigError if there is none (pair again)."""
        try:
            copy = OfficeCopy.model_validate_json(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path} cannot be read ({exc}): pair this PC again.") from None
        return copy.version, office_from_document(copy.office, str(self.path))

    def save(self, copy: OfficeCopy) -> OfficeConfig:
        """Keep a copy the hub sent (validated first: a bad one never replaces a good one)."""
        config = office_from_document(copy.office, "the hub's office")
        write_private(self.path, copy.model_dump_json(indent=1) + "\n")
        return config

    def follow(self, hub: HubClient, known: int) -> tuple[int, OfficeConfig] | None:
        """The hub's office if it is newer than version `known` (kept here), else None."""
        answer = hub.call("GET", "/api/office", params={"known": known})
        if answer is None:
            return None
        copy = OfficeCopy.model_validate(answer)
        config = self.save(copy)
        log.info("the office changed at the hub (version %s)", copy.version)
        return copy.version, config
