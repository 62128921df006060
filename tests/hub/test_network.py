"""Safe on a real office network (issue 18): HTTPS with the office's own CA, a listener
for residents that serves nothing else, sessions that survive a restart, no secrets in
the log, and no hub that serves the sample's well-known secrets beyond this PC."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from nowserving.domain.config import load_config, parse_config
from nowserving.domain.errors import ConfigError, HubUnavailable
from nowserving.domain.rules import short_code
from nowserving.domain.security import hash_pin
from nowserving.hub.run import check_listeners
from nowserving.sync.board_stream import HubBoard
from nowserving.sync.client import HubClient
from nowserving.sync.pairing import OfficeFile, ca_path, pair
from nowserving.sync.protocol import PROTOCOL_HEADER, SYNC_PROTOCOL
from nowserving.sync.tls import verify_for
from nowserving.system.certs import fingerprint, make_ca, write_office_tls
from nowserving.system.paths import sample_config
from tests.hub.conftest import (
    DESK,
    DISPLAY,
    KIOSK,
    PINS,
    RunningHub,
    free_port,
    start_hub,
    stop_hub,
)
from tests.hub.test_pairing import nowserving
from tests.sync.waiting import wait_until

RESIDENT_TAGS = {"public", "resident", "gateway"}  # gateway: residents' replies by SMS
# A staff member the tests add, to disable later; a PIN no port number or timestamp holds.
SAM_PIN = "975318"
SAM = f"""
[[staff]]
id = "sam"
name = "Sam"
pin_hash = "{hash_pin(SAM_PIN)}"
"""


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    folder = tmp_path_factory.mktemp("tls-hub")
    tls = write_office_tls(folder / "tls", "Test office", ["127.0.0.1", "localhost"])
    running = start_hub(
        folder,
        f'tls_cert = "{tls.hub_cert}"\ntls_key = "{tls.hub_key}"\nca_file = "{tls.ca_cert}"\n',
        scheme="https",
        verify=str(tls.ca_cert),
    )
    yield running
    stop_hub(running)


def test_devices_verify_the_hub_with_the_office_ca(tls_hub: RunningHub) -> None:
    config = load_config(tls_hub.config)
    verify = verify_for(config)
    assert isinstance(verify, str) and verify.endswith("office-ca.pem")
    board = HubClient(tls_hub.url, DISPLAY, verify=verify).call("GET", "/api/board")
    assert "lines" in board
    # The residents' listener speaks HTTPS with the same certificate.
    page = requests.get(f"{tls_hub.public_url}/join", timeout=10, verify=verify)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_a_device_with_another_ca_is_refused(tls_hub: RunningHub, tmp_path: Path) -> None:
    stranger = tmp_path / "other-ca.pem"
    stranger.write_bytes(make_ca("Another office").cert)
    with pytest.raises(HubUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        HubClient(tls_hub.url, DISPLAY, verify=str(stranger)).call("GET", "/api/board")
    with pytest.raises(requests.exceptions.SSLError):  # the system's CAs do not know it
        requests.get(f"{tls_hub.public_url}/join", timeout=10)
    with pytest.raises(requests.ConnectionError):  # and nothing is served in clear text
        requests.get(tls_hub.url.replace("https:", "http:") + "/api/health", timeout=10)


def test_a_remote_display_follows_the_hub_over_https_only_with_the_office_ca(
    tls_hub: RunningHub, tmp_path: Path
) -> None:
    config = load_config(tls_hub.config)
    board = HubBoard(tls_hub.url, DISPLAY, config, health_every=3600)
    try:
        wait_until(lambda: _has_board(board), 30)  # the board, over HTTPS
    finally:
        board.close()
    stranger = tmp_path / "other-ca.pem"
    stranger.write_bytes(make_ca("Another office").cert)
    other = config.model_copy(
        update={"hub": config.hub.model_copy(update={"ca_file": str(stranger)})}
    )
    board = HubBoard(tls_hub.url, DISPLAY, other, health_every=3600)
    try:
        wait_until(lambda: "CERTIFICATE_VERIFY_FAILED" in _problem(board), 30)
        assert not _has_board(board)
    finally:
        board.close()


def _has_board(board: HubBoard) -> bool:
    try:
        board.board()
    except HubUnavailable:
        return False
    return True


def _problem(board: HubBoard) -> str:
    try:
        board.refresh()
    except HubUnavailable as exc:
        return str(exc)
    return ""


def _call(method: str, url: str, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(SYNC_PROTOCOL)}
    return requests.request(method, url, headers=headers, json={}, timeout=10)


def test_every_staff_and_sync_operation_is_a_plain_404_on_the_public_listener(
    hub: RunningHub,
) -> None:
    schema = hub.get("/openapi.json").json()
    examples = {
        "counter": "c1",
        "line": "permits",
        "ticket": "0" * 24,
        "token": "x" * 22,
        "device": "kiosk-9",
    }
    session = hub.sign_in("maria")
    walked = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if RESIDENT_TAGS.intersection(operation.get("tags", [])):
                continue
            filled = path.format(**examples)
            answer = _call(method, hub.public_url + filled, session)
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            # There, it is served (this plain-HTTP hub has no office CA to give).
            if method == "get" and not path.endswith(("/events", "/pair/ca")):
                assert _call(method, hub.url + filled, session).status_code == 200, path
            walked.append(operation["operationId"])
    assert {"sync_push", "sync_pull", "staff_login", "call_next", "issue_ticket"} <= set(walked)
    assert {"pair_device", "revoke_device", "get_office", "rename_line"} <= set(walked)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/admin"):
        assert requests.get(hub.public_url + path, timeout=10).status_code == 404


def test_the_public_listener_serves_what_residents_use(hub: RunningHub) -> None:
    joined = requests.post(
        f"{hub.public_url}/api/join", json={"line": "permits", "lang": "en"}, timeout=10
    )
    assert joined.status_code == 201, joined.text
    token = joined.json()["token"]
    assert joined.json()["url"] == f"{hub.public_url}/t/{token}?lang=en"
    get = lambda path: requests.get(hub.public_url + path, timeout=10, allow_redirects=False)  # noqa: E731
    assert get(f"/t/{token}").status_code == 200
    assert get(f"/c/{short_code(token)}").headers["location"] == f"/t/{token}"
    assert get(f"/api/tickets/{token}").json()["status"] == "waiting"
    for path in ("/", "/join", "/static/style.css", "/api/lines", "/api/health"):
        assert get(path).status_code == 200, path
    with requests.get(f"{hub.public_url}/api/tickets/{token}/events", stream=True, timeout=10) as s:
        assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
    # A public address, but not its method: the app's own 405, not a hidden 404.
    assert requests.delete(f"{hub.public_url}/t/{token}", timeout=10).status_code == 405
    left = requests.post(f"{hub.public_url}/api/tickets/{token}/leave", timeout=10)
    assert left.status_code == 200 and left.json()["status"] == "left"


def _sign_in(hub: RunningHub, staff: str, pin: str) -> requests.Response:
    return hub.post("/api/staff/login", DESK, json={"staff": staff, "pin": pin})


def test_sessions_are_kept_hashed_survive_a_kill_and_end_when_disabled(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, SAM)
    port = int(hub.url.rsplit(":", 1)[1])
    sam = _sign_in(hub, "sam", SAM_PIN).json()["token"]
    maria = hub.sign_in("maria")
    assert 9.9 * 3600 < _sign_in(hub, "tom", PINS["tom"]).json()["expires_in"] <= 10 * 3600
    with sqlite3.connect(hub.data / "office.sqlite") as db:
        rows = db.execute("SELECT * FROM sessions").fetchall()
    assert hashlib.sha256(sam.encode()).hexdigest() in {row[0] for row in rows}
    assert not any(sam in str(value) or maria in str(value) for row in rows for value in row)

    hub.process.kill()  # no goodbye: what the store holds is all there is
    hub.process.wait(timeout=10)
    hub = start_hub(tmp_path, SAM, port=port)
    try:
        assert hub.get("/api/counters/c1/queue", sam).status_code == 200
        assert hub.get("/api/counters/c1/queue", maria).status_code == 200
        assert hub.post("/api/staff/logout", maria).status_code == 204
        assert hub.get("/api/counters/c1/queue", maria).status_code == 401
    finally:
        stop_hub(hub)

    hub = start_hub(tmp_path, SAM.replace('name = "Sam"', 'name = "Sam"\ndisabled = true'), port)
    try:
        assert hub.get("/api/counters/c1/queue", sam).status_code == 401  # ended at start
        assert _sign_in(hub, "sam", SAM_PIN).status_code == 401
    finally:
        stop_hub(hub)
    with sqlite3.connect(hub.data / "office.sqlite") as db:
        assert db.execute("SELECT count(*) FROM sessions WHERE staff = 'sam'").fetchone() == (0,)


def test_no_secret_reaches_the_log_after_a_busy_run(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, "access_log = true\n" + SAM)
    secrets: list[str] = [KIOSK, DESK, DISPLAY, SAM_PIN]
    try:
        # First, while the access log's five lines a minute are not used up (the first is
        # start_hub's health check): a resident's page and short link.
        first = hub.issue()["token"]
        requests.get(f"{hub.public_url}/t/{first}", timeout=10)
        requests.get(f"{hub.public_url}/c/{short_code(first)}?code={short_code(first)}", timeout=10)
        tokens = [first, *(hub.issue()["token"] for _ in range(3))]
        secrets += tokens + [short_code(token) for token in tokens]
        for token in tokens:
            requests.get(f"{hub.public_url}/t/{token}", timeout=10)
            requests.get(f"{hub.public_url}/c/{short_code(token)}", timeout=10)
        session = _sign_in(hub, "sam", SAM_PIN).json()["token"]
        secrets.append(session)
        busy: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", f"/api/tickets/{tokens[0]}", {}),
            ("POST", f"/api/tickets/{tokens[1]}/leave", {}),
            ("GET", f"/api/counters/c2/queue?session={session}", {"token": session}),
            ("POST", "/api/counters/c2/call-next", {"token": session}),
            ("POST", "/api/staff/login", {"token": DESK, "json": {"staff": "sam", "pin": "0"}}),
            ("GET", f"/api/sync/pull?secret={KIOSK}", {"token": KIOSK}),
            ("GET", "/api/board", {"token": DISPLAY + "x"}),  # a wrong secret
        ]
        for _ in range(20):
            for method, path, options in busy:
                token = options.get("token")
                extra = {"json": options["json"]} if "json" in options else {}
                if method == "GET":
                    hub.get(path, token)
                else:
                    hub.post(path, token, **extra)
        hub.post("/api/staff/logout", session)
    finally:
        stop_hub(hub)
    log = (tmp_path / "hub.log").read_text(encoding="utf-8")
    assert "GET /t/… HTTP/1.1" in log and "GET /c/…?code=… HTTP/1.1" in log  # it did log
    leaked = [secret for secret in secrets if secret in log]
    assert not leaked, f"in the log: {leaked}"


def _config(hub_table: str) -> str:
    text = sample_config().read_text(encoding="utf-8")
    return text[: text.index("[hub]")] + "[hub]\n" + hub_table


def test_the_sample_secrets_stay_on_this_pc_and_plain_http_must_be_asked_for() -> None:
    sample = parse_config(
        _config('host = "127.0.0.1"\npublic_host = "::1"\nallow_plain_http = true')
    )
    check_listeners(sample)  # the demo: loopback only
    for hub_table in ('host = "0.0.0.0"', 'public_host = "192.0.2.7"', 'host = "hub.lan"'):
        config = parse_config(_config(hub_table + "\nallow_plain_http = true"))
        with pytest.raises(ConfigError, match="nowserving init"):
            check_listeners(config)
    with pytest.raises(ConfigError, match="allow_plain_http = true"):
        check_listeners(parse_config(_config('host = "127.0.0.1"\npublic_host = "127.0.0.1"')))


def test_a_hub_with_the_sample_secrets_on_the_lan_does_not_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "nowserving", "--data", str(tmp_path), "hub"),
            *("--config", str(sample_config()), "--host", "0.0.0.0"),
            *("--port", str(free_port()), "--public-port", str(free_port())),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "sample office's device secrets" in result.stderr and "nowserving init" in result.stderr


def test_a_pc_pairs_over_https_checking_the_office_ca_shown_with_the_code(
    tls_hub: RunningHub, tmp_path: Path
) -> None:
    ca_file = tls_hub.config.parent / "tls" / "office-ca.pem"
    made = nowserving(tls_hub, "pair", "--role", "display", "--json")
    assert made.returncode == 0, made.stderr
    code, pinned = json.loads(made.stdout)["code"], json.loads(made.stdout)["ca_sha256"]
    assert pinned == fingerprint(ca_file.read_bytes())
    # This PC's own CAs do not know the office's: refused before the code is sent.
    with pytest.raises(ConfigError, match="--ca-sha256"):
        pair(tls_hub.url, code, tmp_path)
    # A hub that shows another CA (someone posing as it) is not sent the code either.
    with pytest.raises(ConfigError, match="Nothing was sent"):
        pair(tls_hub.url, code, tmp_path, ca_sha256=fingerprint(make_ca("Impostor").cert))
    credential = pair(tls_hub.url, code, tmp_path, ca_sha256=pinned.lower())  # still unused
    assert ca_path(tmp_path).read_bytes() == ca_file.read_bytes()
    # From then on the device verifies the hub with the CA kept in its data folder.
    config = OfficeFile(tmp_path, credential.device.id).load()[1]
    assert config.hub.ca_file == str(ca_path(tmp_path))
    hub = HubClient(tls_hub.url, credential.device.secret, verify=verify_for(config))
    assert hub.call("GET", "/api/office")["version"] >= 1
    # Or with the CA's certificate copied to the new PC.
    desk_code = json.loads(nowserving(tls_hub, "pair", "--role", "desk", "--json").stdout)["code"]
    pair(tls_hub.url, desk_code, tmp_path / "desk", ca_file=ca_file)
    assert ca_path(tmp_path / "desk").read_bytes() == ca_file.read_bytes()
