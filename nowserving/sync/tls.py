"""How a device checks that it talks to its office's hub (HTTPS)."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig


def verify_for(config: OfficeConfig) -> str | bool:
    """What `requests` and `httpx` take as `verify=`: the office CA's certificate file
    (`[hub] ca_file`) if the config names one, else True (the system's CAs, e.g. for a hub
    behind a proxy with a public certificate). Never False: an unverified hub could be
    anyone on the network."""
    return config.hub.ca_file or True


def local_hub_url(config: OfficeConfig) -> str:
    """The hub's devices-and-staff listener as seen from the hub's own PC."""
    scheme = "https" if config.hub.tls else "http"
    return f"{scheme}://localhost:{config.hub.port}"
