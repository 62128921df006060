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
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import ValidationError

from nowserving.domain.config import Device, OfficeConfig, office_from_document
from nowserving.domain.errors import ConfigError, HubUnavailable
from nowserving.sync.client import HubClient
from nowserving.sync.protocol import OfficeCopy, PairResponse
from nowserving.system.certs import fingerprint
from nowserving.system.files import write_private

log = logging.getLogger(__name__)
MAX_CA_CHARS = 64 * 1024


@dataclass(frozen=True)
class Credential:
    """What a paired device holds: where its hub is, and who it is there."""

    hub: str
    device: Device


def credential_path(folder: Path, role: str) -> Path:
    return folder / f"{role}.device.json"


def pair(
    hub_url: str,
    code: str,
    folder: Path,
    *,
    ca_sha256: str | None = None,
    ca_file: Path | None = None,
) -> Credential:
    """Trade a pairing code for this PC's credential and the office; keep both here.

    Over HTTPS the hub is verified before the code is sent: with the office CA from
    `ca_file`, or the one the hub serves if its SHA-256 fingerprint is `ca_sha256` (shown
    with the pairing code), else with this PC's own CAs (a hub behind a proxy with a
    public certificate). The CA is kept here (`office-ca.pem`) and verifies the hub from
    then on."""
    ca = _trusted_ca(hub_url, ca_sha256, ca_file)
    verify: str | bool = True
    if ca is not None:
        write_private(ca_path(folder), ca)
        verify = str(ca_path(folder))
    try:
        reply = HubClient(hub_url, "", verify=verify).call("POST", "/api/pair", json={"code": code})
    except HubUnavailable as exc:
        if hub_url.startswith("https:") and ca is None and "SSL" in str(exc):
            raise ConfigError(
                f"{exc} This PC does not trust the hub's certificate: give the office CA's "
                "fingerprint shown with the pairing code (--ca-sha256 AB:CD:...) or its "
                "certificate (--ca office-ca.pem)."
            ) from None
        raise
    answer = PairResponse.model_validate(reply)
    if (
        ca is not None
        and answer.ca is not None
        and fingerprint(answer.ca.encode()) != (fingerprint(ca.encode()))
    ):
        raise ConfigError("The hub's answer names another CA than the one it was checked with.")
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
    if ca is None:  # this PC's own CAs verified the hub: an earlier pairing's CA is stale
        ca_path(folder).unlink(missing_ok=True)
    OfficeFile(folder, device.id).save(answer.office)
    return Credential(hub_url.rstrip("/"), device)


def ca_path(folder: Path) -> Path:
    """The office CA's certificate as this PC keeps it (from pairing)."""
    return folder / "office-ca.pem"


def _trusted_ca(hub_url: str, ca_sha256: str | None, ca_file: Path | None) -> str | None:
    """The office CA to verify the hub with while pairing (PEM), or None for this PC's own."""
    if ca_file is not None:
        try:
            pem = ca_file.read_text(encoding="ascii")
            fingerprint(pem.encode())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(
                f"--ca {ca_file}: not a certificate this PC can read ({exc})."
            ) from None
        return pem
    if ca_sha256 is None or not hub_url.startswith("https:"):
        return None
    wanted = ca_sha256.replace(":", "").replace(" ", "").upper()
    if not re.fullmatch(r"[0-9A-F]{64}", wanted):
        raise ConfigError(
            "--ca-sha256 takes the 64 hexadecimal digits shown with the pairing code."
        )
    # Not verified yet, so nothing secret is sent: the certificate counts only if it is
    # the one whose fingerprint came with the code, out of band.
    try:
        response = httpx.get(f"{hub_url.rstrip('/')}/api/pair/ca", verify=False, timeout=10)
        pem = response.text[:MAX_CA_CHARS]
        found = fingerprint(pem.encode()).replace(":", "") if response.status_code == 200 else ""
    except (httpx.HTTPError, ValueError) as exc:
        raise HubUnavailable(f"The hub at {hub_url} did not give its CA ({exc}).") from None
    if found != wanted:
        raise ConfigError(
            f"The hub at {hub_url} did not show the office CA whose fingerprint came with "
            "the code: is this the right address? Nothing was sent to it."
        )
    return pem


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
        self.ca = ca_path(folder)

    def load(self) -> tuple[int, OfficeConfig]:
        """The office kept here; ConfigError if there is none (pair again)."""
        try:
            copy = OfficeCopy.model_validate_json(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path} cannot be read ({exc}): pair this PC again.") from None
        return copy.version, self._here(office_from_document(copy.office, str(self.path)))

    def save(self, copy: OfficeCopy) -> OfficeConfig:
        """Keep a copy the hub sent (validated first: a bad one never replaces a good one)."""
        config = office_from_document(copy.office, "the hub's office")
        write_private(self.path, copy.model_dump_json(indent=1) + "\n")
        return self._here(config)

    def _here(self, config: OfficeConfig) -> OfficeConfig:
        """The office as this PC uses it: `[hub] ca_file` is the CA kept here at pairing; a
        PC paired before pairing brought the CA keeps using a copy at the hub's path; else
        none (this PC's own CAs)."""
        ca_file = config.hub.ca_file
        if self.ca.is_file():
            ca_file = str(self.ca)
        elif ca_file and not Path(ca_file).is_file():
            ca_file = None
        return config.model_copy(update={"hub": config.hub.model_copy(update={"ca_file": ca_file})})

    def follow(self, hub: HubClient, known: int) -> tuple[int, OfficeConfig] | None:
        """The hub's office if it is newer than version `known` (kept here), else None."""
        answer = hub.call("GET", "/api/office", params={"known": known})
        if answer is None:
            return None
        copy = OfficeCopy.model_validate(answer)
        config = self.save(copy)
        log.info("the office changed at the hub (version %s)", copy.version)
        return copy.version, config
