"""How a device checks that it talks to its office's hub (HTTPS)."""

from __future__ import annotations

from pathlib import Path

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import ConfigError


def verify_for(config: OfficeConfig) -> str | bool:
    """What `requests` and `httpx` take as `verify=`: the office CA's certificate file
    (`[hub] ca_file`) if the config names one, else True (the system's CAs, e.g. for a hub
    behind a proxy with a public certificate). Never False: an unverified hub could be
    anyone on the network."""
    ca_file = config.hub.ca_file
    if ca_file and not Path(ca_file).is_file():
        raise ConfigError(
            f"[hub] ca_file {ca_file} is not on this PC: copy the office's office-ca.pem there "
            "(it lets this device check that it talks to its office's hub)"
        )
    return ca_file or True


def local_hub_url(config: OfficeConfig) -> str:
    """The hub's devices-and-staff listener as seen from the hub's own PC."""
    scheme = "https" if config.hub.tls else "http"
    return f"{scheme}://localhost:{config.hub.port}"
