"""schemathesis against a real hub, with negative and boundary data: no input makes a
server error, and every error answer is a problem document (tests/hub/fuzz_checks.py).
Both listeners: the residents' one is fuzzed with the operations it serves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nowserving.sync.protocol import PROTOCOL_HEADER, SYNC_PROTOCOL
from tests.hub.conftest import KIOSK, RunningHub, start_hub, stop_hub

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

# The operations (by OpenAPI tag) of each kind of caller. The streams never end, and a
# staff member signing out would only end the run's own session.
TAGS = {
    "public": ["public", "resident"],
    "residents' listener": ["public", "resident"],
    "kiosk": ["kiosk", "sync"],
    "staff": ["staff", "line control"],
}
EXCLUDED = ["follow_board", "follow_ticket", "staff_logout"]


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
    hub: RunningHub, headers: list[str], tags: list[str], folder: Path, base: str
) -> str:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{hub.url}/openapi.json",  # served on the devices' listener only
        "--url",
        base,
        "--checks",
        "not_a_server_error,problem_document",
        "--mode",
        "all",  # valid and invalid data
        "--phases",
        "examples,coverage,fuzzing",  # coverage: the boundaries of every constraint
        "--max-examples",
        "15",
        "--seed",
        "13",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--workers",
        "1",
        "--no-color",
        *[arg for tag in tags for arg in ("--include-tag", tag)],
        *[arg for operation in EXCLUDED for arg in ("--exclude-operation-id", operation)],
        *[arg for header in headers for arg in ("--header", header)],
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=folder,  # its cache stays out of the source tree
        env={**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.hub.fuzz_checks"},
    )
    output = result.stdout + result.stderr
    (folder / "schemathesis.txt").write_text(output)
    assert result.returncode == 0, output[-6000:]
    return output


@pytest.mark.parametrize("who", list(TAGS))
def test_no_server_errors_and_only_problem_documents(
    fuzzed_hub: RunningHub, who: str, tmp_path: Path
) -> None:
    headers = {
        "public": [],
        "residents' listener": [],
        "kiosk": [f"Authorization: Bearer {KIOSK}", f"{PROTOCOL_HEADER}: {SYNC_PROTOCOL}"],
        "staff": [f"Authorization: Bearer {fuzzed_hub.sign_in('maria')}"],
    }[who]
    base = fuzzed_hub.public_url if who == "residents' listener" else fuzzed_hub.url
    output = _schemathesis(fuzzed_hub, headers, TAGS[who], tmp_path, base)
    assert " passed" in output  # and the exit code said: no check failed
