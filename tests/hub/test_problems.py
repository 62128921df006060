"""Every error answer of the hub is one RFC 9457 problem document, whoever raised it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from nowserving.domain.config import OfficeConfig, RateLimits
from nowserving.domain.errors import StoreError
from nowserving.hub.app import MAX_BODY_BYTES, create_app
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.hub.conftest import DESK, KIOSK, PINS

PROBLEM = "application/problem+json"
READS_PER_MINUTE = 5


@pytest.fixture
def app(store: EventStore, config: OfficeConfig) -> FastAPI:
    # Few reads a minute from one address: the limit is reached in a few requests.
    hub = config.hub.model_copy(update={"rate_limits": RateLimits(read=READS_PER_MINUTE)})
    service = LocalService(store, config.model_copy(update={"hub": hub}), "hub")
    app = create_app(service)

    def crash() -> None:
        raise RuntimeError("secret internals: /var/lib/nowserving/office.sqlite")

    def store_broken() -> None:
        raise StoreError("The office's data cannot be read right now.")

    app.add_api_route("/api/test/crash", crash)
    app.add_api_route("/api/test/store", store_broken)
    return app


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    # Without the app's lifespan: no live streams or retention purge, only requests.
    return TestClient(app, raise_server_exceptions=False)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem_of(response: Response, status: int) -> dict[str, Any]:
    """The response's problem document, checked for the RFC 9457 members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    assert set(body) <= {"type", "title", "status", "detail", "code", "errors"}
    return body


def test_an_unknown_path_and_a_wrong_method_are_problems(client: TestClient) -> None:
    missing = problem_of(client.get("/api/no-such-thing"), 404)
    assert missing["title"] == "Not Found" and "nothing at this address" in missing["detail"]
    problem_of(client.get("/static/no-such-file.js"), 404)
    wrong = client.delete("/api/lines")
    assert "GET" in wrong.headers["allow"]
    assert "DELETE" in problem_of(wrong, 405)["detail"]


def test_validation_names_every_field(client: TestClient) -> None:
    answer = client.post(
        "/api/tickets", headers=_auth(KIOSK), json={"line": "Permits Desk", "name": "Jane Doe"}
    )
    body = problem_of(answer, 422)
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"line", "name"}
    assert all(error["message"] for error in body["errors"])
    assert "line: String should match pattern" in body["detail"]
    assert "Jane Doe" not in answer.text  # the input is never echoed back


def test_a_broken_json_body_is_a_400_problem(client: TestClient) -> None:
    answer = client.post(
        "/api/tickets",
        headers={**_auth(KIOSK), "Content-Type": "application/json"},
        content=b"{not json",
    )
    body = problem_of(answer, 400)
    assert body["detail"] == "The request body is not valid JSON."
    assert body["errors"] == [{"field": "body", "message": body["detail"]}]


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "1", None, []])
def test_booleans_are_strict(client: TestClient, value: object) -> None:
    answer = client.post(
        "/api/tickets", headers=_auth(KIOSK), json={"line": "permits", "priority": value}
    )
    assert [e["field"] for e in problem_of(answer, 422)["errors"]] == ["priority"]


def test_a_real_boolean_is_taken(client: TestClient) -> None:
    answer = client.post(
        "/api/tickets", headers=_auth(KIOSK), json={"line": "permits", "priority": True}
    )
    assert answer.status_code == 201 and answer.json()["ticket"]["priority"] is True


def test_bad_path_parameters_are_refused_by_name(client: TestClient) -> None:
    long_token = problem_of(client.get("/api/tickets/" + "a" * 5000), 422)
    assert long_token["errors"][0]["field"] == "token"
    session = client.post(
        "/api/staff/login", headers=_auth(DESK), json={"staff": "maria", "pin": PINS["maria"]}
    ).json()["token"]
    spaces = problem_of(client.get("/api/counters/counter one", headers=_auth(session)), 422)
    assert spaces["errors"][0]["field"] == "counter"
    ticket = problem_of(client.post("/api/staff/tickets/x/recall", headers=_auth(session)), 422)
    assert ticket["errors"][0]["field"] == "ticket"
    line = problem_of(client.post("/api/lines/Permits Desk/resume", headers=_auth(session)), 422)
    assert line["errors"][0]["field"] == "line"
    # The resident's page stays a page: an odd token is an unknown ticket, not JSON.
    for junk in ("/t/" + "a" * 5000, "/c/" + "x" * 5000, "/c/0O1I0O1I"):
        page = client.get(junk)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_sync_numbers_are_bounded(client: TestClient) -> None:
    headers = {**_auth(KIOSK), "X-Nowserving-Sync": "1"}
    after = problem_of(client.get("/api/sync/pull", params={"after": 10**30}, headers=headers), 422)
    assert after["errors"][0]["field"] == "after"
    event = {
        "id": "e1",
        "device": "kiosk-1",
        "seq": 10**30,
        "hlc": "000000000000001.000000.kiosk-1",
        "kind": "device.alert",
    }
    pushed = client.post("/api/sync/push", headers=headers, json={"events": [event]})
    assert problem_of(pushed, 422)["errors"][0]["field"] == "events.0.seq"


def test_a_body_too_large_says_the_limit_of_its_address(client: TestClient) -> None:
    big = json.dumps({"line": "permits", "lang": "x" * MAX_BODY_BYTES})
    declared = client.post(
        "/api/tickets",
        headers={**_auth(KIOSK), "Content-Type": "application/json"},
        content=big,
    )
    assert "at most 64 KiB" in problem_of(declared, 413)["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big.encode()

    streamed = client.post(
        "/api/tickets",
        headers={**_auth(KIOSK), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert "at most 64 KiB" in problem_of(streamed, 413)["detail"]
    sync_headers = {**_auth(KIOSK), "X-Nowserving-Sync": "1", "Content-Type": "application/json"}
    for path in ("/api/sync/push", "/api/sync/push/"):  # the second is redirected to the first
        sync = client.post(path, headers={**sync_headers, "Content-Length": str(5 * 2**20)})
        assert "at most 4 MiB" in problem_of(sync, 413)["detail"], path

    def sync_chunks() -> Iterator[bytes]:  # a replica's batch, counted as it arrives
        for _ in range(5):
            yield b" " * 2**20

    streamed_sync = client.post("/api/sync/push", headers=sync_headers, content=sync_chunks())
    assert "at most 4 MiB" in problem_of(streamed_sync, 413)["detail"]


def test_a_bug_is_a_plain_500_and_a_logged_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="nowserving.hub"):
        answer = client.get("/api/test/crash")
    body = problem_of(answer, 500)
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
    assert body["detail"].startswith("Something went wrong on the hub")
    (record,) = [r for r in caplog.records if r.name == "nowserving.hub"]
    assert record.exc_info is not None and "secret internals" in str(record.exc_info[1])


def test_an_unusable_store_is_a_503_with_retry_after(client: TestClient) -> None:
    answer = client.get("/api/test/store")
    assert problem_of(answer, 503)["detail"] == "The office's data cannot be read right now."
    assert int(answer.headers["retry-after"]) >= 1


def test_a_429_says_when_to_retry(client: TestClient) -> None:
    for _ in range(READS_PER_MINUTE):
        assert client.get("/api/lines").status_code == 200
    limited = client.get("/api/lines")
    assert "Too many requests" in problem_of(limited, 429)["detail"]
    # The window is one minute and began with the first of these requests.
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_refusals_of_access_and_rules_are_problems(client: TestClient) -> None:
    unsigned = client.get("/api/board")
    assert "Sign in first" in problem_of(unsigned, 401)["detail"]
    assert unsigned.headers["www-authenticate"] == "Bearer"
    problem_of(client.post("/api/tickets", headers=_auth(DESK), json={"line": "permits"}), 403)
    unknown = client.post("/api/tickets", headers=_auth(KIOSK), json={"line": "dragons"})
    assert "no line 'dragons'" in problem_of(unknown, 404)["detail"]
    language = client.post(
        "/api/tickets", headers=_auth(KIOSK), json={"line": "permits", "lang": "xx"}
    )
    problem_of(language, 409)
    outdated = client.get("/api/sync/pull", headers={**_auth(KIOSK), "X-Nowserving-Sync": "0"})
    assert "update Nowserving" in problem_of(outdated, 426)["detail"]


def test_a_refusal_a_resident_can_meet_carries_its_code(client: TestClient) -> None:
    login = client.post(
        "/api/staff/login", headers=_auth(DESK), json={"staff": "maria", "pin": PINS["maria"]}
    )
    clerk = login.json()["token"]
    paused = client.post(
        "/api/lines/records/pause", headers=_auth(clerk), json={"reason": {"en": "Back at 2"}}
    )
    assert paused.status_code == 200 and paused.json()["pause_texts"] == {"en": "Back at 2"}
    refused = problem_of(
        client.post("/api/tickets", headers=_auth(KIOSK), json={"line": "records"}), 409
    )
    # The code for the resident's screen; the English sentence for staff and logs.
    assert refused["code"] == "line_paused" and "Back at 2" in refused["detail"]
    remote = problem_of(client.post("/api/join", json={"line": "records"}), 409)
    assert remote["code"] == "remote_not_allowed"
    assert "code" not in problem_of(client.get("/api/board"), 401)  # not for residents


def test_openapi_documents_every_error_as_a_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for name, path in spec["paths"].items():
        if name.startswith("/api/test/"):  # this test's own routes
            continue
        for operation in path.values():
            responses = operation["responses"]
            for status in ("401", "404", "422", "429", "500"):
                content = responses[status]["content"]
                assert list(content) == [PROBLEM], (operation["operationId"], status)
                assert content[PROBLEM]["schema"]["$ref"] == "#/components/schemas/Problem"
            assert "Retry-After" in responses["429"]["headers"]
