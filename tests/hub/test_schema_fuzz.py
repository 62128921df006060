"""schemathesis against the hub's own OpenAPI document: no input makes a server error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.conftest import KIOSK, RunningHub, start_hub, stop_hub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    # Generous limits: the fuzzer sends far more than one phone would.
    running = start_hub(
        tmp_path_factory.mktemp("fuzz"),
        extra_config="[hub.rate_limits]\nread = 100000\nstream = 100000\n"
        "leave = 100000\njoin = 100000\n",
    )
    yield running
    stop_hub(running)


def _schemathesis(
    hub: RunningHub, token: str, report: Path, *skip: str
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{hub.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "25",
        "--exclude-operation-id",
        "follow_board",
        "--exclude-operation-id",
        "follow_ticket",
        "--header",
        f"Authorization: Bearer {token}",
        "--request-timeout",
        "10",
        "--seed",
        "1",
        *[arg for operation in skip for arg in ("--exclude-operation-id", operation)],
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=400, check=False)
    report.write_text(result.stdout + result.stderr)
    return result


@pytest.mark.parametrize("who", ["kiosk", "staff"])
def test_no_server_errors(fuzzed_hub: RunningHub, who: str, tmp_path: Path) -> None:
    token = KIOSK if who == "kiosk" else fuzzed_hub.sign_in("maria")
    # Staff keep their session for the whole run: signing out is tested elsewhere.
    result = _schemathesis(fuzzed_hub, token, tmp_path / "schemathesis.txt", "staff_logout")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout
