"""A real hub process on loopback, with its own store and a copy of the sample office."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright
from requests.adapters import HTTPAdapter

from nowserving.system.paths import sample_config

KIOSK = "Fpac3jYCoCpQWaBXGvvEjjQip_SLUYVK"
DISPLAY = "CTlt9w8DZmt11IuditsF-KPnKTR3gDx8"
DESK = "7wtzMkqDbOs3K7IyXVbWGktcHkgfHxfH"
PINS = {"maria": "1234", "tom": "2468", "lin": "1357"}


def free_port(*taken: int) -> int:
    """A port nobody listens on now, other than `taken` (a killed hub's port is free again)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


@dataclass
class RunningHub:
    url: str  # devices and staff
    process: subprocess.Popen[bytes]
    data: Path
    config: Path
    public_url: str = ""  # residents only

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, headers=_auth(token), timeout=10, **kwargs)

    def post(
        self,
        path: str,
        token: str | None = None,
        headers_extra: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {**_auth(token), **(headers_extra or {})}
        return requests.post(self.url + path, headers=headers, timeout=10, **kwargs)

    def put(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return requests.put(self.url + path, headers=_auth(token), timeout=10, **kwargs)

    def issue(self, line: str = "permits", **body: Any) -> dict[str, Any]:
        response = self.post("/api/tickets", KIOSK, json={"line": line, **body})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def empty_queue(self, counter: str, clerk: str) -> None:
        """Open `counter` and call everyone waiting for it: the hub is shared by a module."""
        self.post(f"/api/counters/{counter}/open", clerk)
        while self.post(f"/api/counters/{counter}/call-next", clerk).json() is not None:
            pass

    def sign_in(self, staff: str = "maria") -> str:
        response = self.post("/api/staff/login", DESK, json={"staff": staff, "pin": PINS[staff]})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A session whose connections leave from `address`: all of 127.0.0.0/8 is loopback,
    so tests can be several clients of the hub."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def start_hub(
    folder: Path,
    extra_config: str = "",
    port: int | None = None,
    command: Sequence[str] = (sys.executable, "-m", "nowserving"),
    public_port: int | None = None,
    scheme: str = "http",
    verify: str | bool = True,
) -> RunningHub:
    """A hub process with its store in `folder` (started again: same store, same ports).

    The sample office, over plain HTTP as it allows (`extra_config` goes under its
    `[hub]`); with `scheme="https"`, `extra_config` gives the certificate and `verify`
    the CA to check it with. `command` starts Nowserving's command line (the soak
    benchmark's moves its clock).
    """
    port = port or free_port()
    public_port = public_port or free_port(port)
    folder.mkdir(parents=True, exist_ok=True)
    url = f"{scheme}://127.0.0.1:{port}"
    public_url = f"{scheme}://127.0.0.1:{public_port}"
    config = folder / "office.toml"
    text = sample_config().read_text(encoding="utf-8")
    text = text.replace('"http://localhost:8401"', f'"{public_url}"') + extra_config
    config.write_text(text, encoding="utf-8")
    log = folder / "hub.log"
    with log.open("wb") as output:  # the child keeps its own copy of the handle
        process = subprocess.Popen(
            [
                *command,
                "--data",
                str(folder / "data"),
                "hub",
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--public-port",
                str(public_port),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    # Generous: on a loaded machine a hub can take many seconds to start, or to answer.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            health = requests.get(url + "/api/health", timeout=5, verify=verify)
            # Listening comes first, then the application is built (hub.starting): any
            # other request waits for it (one line in the access log, not one per poll).
            if health.ok and (
                health.json()["ready"]
                or requests.get(url + "/api/board", timeout=60, verify=verify).status_code != 503
            ):
                return RunningHub(url, process, folder / "data", config, public_url)
        except requests.RequestException:  # not listening yet, or too busy to answer
            time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError(f"the hub stopped: {log.read_text(errors='replace')}")
    process.kill()
    raise RuntimeError("the hub did not start within 60 s")


def stop_hub(hub: RunningHub) -> None:
    hub.process.terminate()
    try:
        hub.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        hub.process.kill()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("hub"))
    yield running
    stop_hub(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium package is missing: bash scripts/test.sh installs it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()
