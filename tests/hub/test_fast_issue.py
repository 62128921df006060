"""A kiosk's ordinary issue is answered without FastAPI, and exactly as the route answers it;
every other issue request reaches the route, body and all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from nowserving.domain.config import OfficeConfig
from nowserving.hub.app import create_app
from nowserving.hub.fast_issue import FastIssue
from nowserving.hub.problems import MAX_BODY_BYTES
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.hub.conftest import DESK, DISPLAY, KIOSK

JSON = {"content-type": "application/json"}


class Passed:
    """The application behind FastIssue, noting each request (and body) passed on to it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the test client's lifespan
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def noting() -> Message:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        try:
            await self.app(scope, noting, send)
        finally:
            self.bodies.append(b"".join(chunks))


@pytest.fixture
def app(store: EventStore, config: OfficeConfig) -> FastAPI:
    return create_app(LocalService(store, config, "hub"))


def _post(app: Any, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    with TestClient(app) as client:
        answer = client.post("/api/tickets", content=body, headers=headers)
    return answer.status_code, answer.json()


def test_an_ordinary_issue_is_answered_here_as_the_route_answers_it(app: FastAPI) -> None:
    passed = Passed(app)
    lane = FastIssue(app.state.hub, passed)
    body = json.dumps({"line": "permits", "lang": "es"}).encode()
    headers = {"Authorization": f"Bearer {KIOSK}", "Idempotency-Key": "kiosk-1-0001", **JSON}

    status, issued = _post(lane, body, headers)
    # The same request to the route: the same request id, so the first ticket's answer.
    assert _post(app, body, headers) == (status, issued)
    assert passed.bodies == []
    assert status == 201 and issued["ticket"]["line"] == "permits"
    assert issued["ticket"]["token"] == "" and issued["token"] in issued["url"]
    again = _post(
        lane,
        json.dumps({"line": "permits"}).encode(),
        {**headers, "Idempotency-Key": "kiosk-1-0002"},
    )
    assert again[1]["ticket"]["id"] != issued["ticket"]["id"] and passed.bodies == []


REFUSED = {
    "no credential": ({}, {"line": "permits"}),
    "unknown credential": ({"Authorization": "Bearer not-a-device-secret"}, {"line": "permits"}),
    "a display": ({"Authorization": f"Bearer {DISPLAY}"}, {"line": "permits"}),
    "a desk device": ({"Authorization": f"Bearer {DESK}"}, {"line": "permits"}),
    "basic, not bearer": ({"Authorization": f"Basic {KIOSK}"}, {"line": "permits"}),
    "unknown field": ({}, {"line": "permits", "vip": True}),
    "not a line id": ({}, {"line": "../etc"}),
    "priority as text": ({}, {"line": "permits", "priority": "yes"}),
    "short request id": ({"Idempotency-Key": "short"}, {"line": "permits"}),
    "empty request id": ({"Idempotency-Key": ""}, {"line": "permits"}),
    "not JSON": ({"content-type": "text/plain"}, {"line": "permits"}),
}


@pytest.mark.parametrize("case", REFUSED)
def test_any_other_request_reaches_the_route_with_its_body(app: FastAPI, case: str) -> None:
    extra, payload = REFUSED[case]
    headers = {**JSON, "Authorization": f"Bearer {KIOSK}", **extra}
    if "Authorization" not in extra and case == "no credential":
        del headers["Authorization"]
    body = json.dumps(payload).encode()
    passed = Passed(app)

    answer = _post(FastIssue(app.state.hub, passed), body, headers)

    assert passed.bodies == [body]
    assert answer == _post(app, body, headers)  # the route's own answer
    assert answer[0] >= 400 and answer[1]["status"] == answer[0]


def test_a_broken_body_and_a_body_too_large_reach_the_route_whole(app: FastAPI) -> None:
    passed = Passed(app)
    lane = FastIssue(app.state.hub, passed)
    headers = {**JSON, "Authorization": f"Bearer {KIOSK}"}
    valid_but_big = b'{"line": "permits"}' + b" " * MAX_BODY_BYTES  # JSON, over the limit
    bodies = [b'{"line": "perm', b"[" * 5000, valid_but_big]

    answers = [_post(lane, body, headers)[0] for body in bodies]

    assert answers == [400, 400, 413]
    assert passed.bodies[:2] == bodies[:2]
    assert bodies[2].startswith(passed.bodies[2])  # the app's limit stops reading past it
    assert app.state.hub.service.lines()[0].waiting == 0


@pytest.mark.parametrize("line", ["nowhere", "permits"])
def test_a_refusal_of_the_rules_is_answered_here_as_the_route_answers_it(
    app: FastAPI, line: str
) -> None:
    app.state.hub.service.pause_line("permits", "lunch")
    passed = Passed(app)
    headers = {**JSON, "Authorization": f"Bearer {KIOSK}", "Idempotency-Key": "kiosk-1-0003"}
    body = json.dumps({"line": line}).encode()

    answer = _post(FastIssue(app.state.hub, passed), body, headers)

    assert passed.bodies == []  # tried here: the route, trying again, might act twice
    assert answer == _post(app, body, headers)
    assert answer[0] == (404 if line == "nowhere" else 409)
    assert app.state.hub.service.lines()[0].waiting == 0
