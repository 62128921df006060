"""The one permission rule on the sync path, against a real hub process over loopback.

Every event kind is pushed by a kiosk, a display and a desk (without a signed-in staff
member, with one, with one who has line control); it is accepted or refused as the
rule says, and a refused one leaves the hub's projection exactly as it was. The
expectations are written out here, not taken from `permissions.NEEDS`, so a broken
table fails these tests.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
import requests

from nowserving.domain.config import load_config
from nowserving.domain.events import LASTING_KINDS, Kind
from nowserving.domain.rules import new_token, office_day, ticket_id, ticket_label
from nowserving.sync.protocol import PROTOCOL_HEADER, SYNC_PROTOCOL
from tests.hub.conftest import DESK, DISPLAY, KIOSK, PINS, RunningHub, start_hub, stop_hub

KIOSK_2 = "pRfWAIgyQiHzbwyd5acNlmyLgGHl2dW5"
SECRETS = {"kiosk": KIOSK, "display": DISPLAY, "desk": DESK}
DEVICE_IDS = {"kiosk": "kiosk-1", "display": "display-1", "desk": "desk-1"}
ROLES = ["kiosk", "display", "desk", "desk+tom", "desk+maria"]  # desk+X: X signs in there
STAFF_KINDS = {
    Kind.TICKET_CALLED,
    Kind.TICKET_RECALLED,
    Kind.TICKET_SERVED,
    Kind.TICKET_NO_SHOW,
    Kind.TICKET_RETURNED,
    Kind.TICKET_TRANSFERRED,
    Kind.COUNTER_OPENED,
    Kind.COUNTER_CLOSED,
}
LINE_CONTROL_KINDS = {
    Kind.LINE_PAUSED,
    Kind.LINE_RESUMED,
    Kind.LINE_REROUTED,
    Kind.LINE_REROUTE_ENDED,
    Kind.ANNOUNCEMENT_SET,
    Kind.DAY_ENDED,
}


def may(role: str, kind: Kind) -> bool:
    """The rule of issue 13, spelled out."""
    if kind is Kind.DEVICE_ALERT:
        return True  # its own
    if kind is Kind.TICKET_ISSUED:
        return role == "kiosk"
    if kind in (Kind.STAFF_SIGNED_IN, Kind.STAFF_SIGNED_OUT):
        return role.startswith("desk")
    if kind in STAFF_KINDS:
        return role in ("desk+tom", "desk+maria")
    if kind in LINE_CONTROL_KINDS:
        return role == "desk+maria"
    return False  # ticket.left: only the hub's resident pages


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Pusher:
    """Builds events as one fresh replica of a device would, and pushes them."""

    def __init__(self, hub: RunningHub, device: str, secret: str) -> None:
        self.hub, self.secret = hub, secret
        self.writer = f"{device}~{secrets.token_hex(3)}"
        self.seq = 0
        self.zone = load_config(hub.config).zone

    def event(self, kind: Kind, *, at: int | None = None, **fields: Any) -> dict[str, Any]:
        at = at if at is not None else now_ms()
        self.seq += 1
        body = {
            "id": secrets.token_hex(16),
            "device": self.writer,
            "seq": self.seq,
            "hlc": f"{at:015d}.{self.seq:06d}.{self.writer}",
            "kind": str(kind),
            "day": None if kind in LASTING_KINDS else office_day(at, self.zone),
            "data": {},
        }
        body.update(fields)
        return body

    def push(self, *events: dict[str, Any]) -> dict[str, Any]:
        response = sync(
            self.hub,
            "POST",
            "/api/sync/push",
            self.secret,
            json={"events": list(events), "writer": self.writer},
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def sync(hub: RunningHub, method: str, path: str, secret: str, **kwargs: Any) -> requests.Response:
    """A sync request as a replica sends it."""
    headers = {"Authorization": f"Bearer {secret}", PROTOCOL_HEADER: str(SYNC_PROTOCOL)}
    return requests.request(method, hub.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def clerk(hub: RunningHub) -> str:
    return hub.sign_in("maria")


def lease(hub: RunningHub, secret: str, line: str, count: int = 1) -> int:
    response = sync(hub, "POST", "/api/sync/lease", secret, json={"line": line, "count": count})
    assert response.status_code == 200, response.text
    start: int = response.json()["start"]
    return start


def issued_event(pusher: Pusher, line: str, number: int, **data: Any) -> dict[str, Any]:
    token = new_token()
    payload = {
        "number": number,
        "label": ticket_label({"records": "C", "ids": "E", "payments": "D"}[line], number),
        "token": token,
        "priority": False,
        "lang": "en",
        "source": "kiosk",
    }
    payload.update(data)
    return pusher.event(Kind.TICKET_ISSUED, ticket=ticket_id(token), line=line, data=payload)


def projection(hub: RunningHub, clerk: str) -> list[Any]:
    """What the hub shows, without its device alerts (a refusal adds one, on purpose)."""
    board = hub.get("/api/board", DESK).json()
    board.pop("alerts")
    board.pop("version")
    queues = [hub.get(f"/api/counters/{c}/queue", clerk).json() for c in ("c4", "c6")]
    # Estimates count down a busy counter's service from the latest event (the alert's, too).
    for view in [*board["lines"], *(t for queue in queues for t in queue)]:
        view.pop("wait")
    return [board, queues]


def a_ticket(hub: RunningHub, clerk: str, status: str) -> dict[str, Any]:
    """A fresh ticket in the records line, waiting, called at c4, or no-show."""
    ticket: dict[str, Any] = hub.issue("records")["ticket"]
    if status in ("called", "no_show"):
        answer = hub.post(
            "/api/counters/c4/call", clerk, json={"ticket": ticket["id"], "reason": "test"}
        )
        assert answer.status_code == 200, answer.text
    if status == "no_show":
        answer = hub.post(f"/api/staff/tickets/{ticket['id']}/no-show", clerk)
        assert answer.status_code == 200, answer.text
    return ticket


def the_event(hub: RunningHub, clerk: str, pusher: Pusher, kind: Kind, role: str) -> dict[str, Any]:
    """A well-formed event of `kind` that only the permission rule may refuse."""
    # Without a sign-in, events name lin, who is never signed in at desk-1 in this module
    # (sign-ins themselves name tom: every desk+tom case signs tom in anew).
    signing = kind in (Kind.STAFF_SIGNED_IN, Kind.STAFF_SIGNED_OUT)
    staff = role.partition("+")[2] or ("tom" if signing else "lin")
    device = DEVICE_IDS[role.split("+")[0]]
    on_ticket: dict[Kind, tuple[str, dict[str, Any]]] = {
        Kind.TICKET_CALLED: ("waiting", {"counter": "c4"}),
        Kind.TICKET_RECALLED: ("called", {"counter": "c4"}),
        Kind.TICKET_SERVED: ("called", {}),
        Kind.TICKET_NO_SHOW: ("called", {}),
        Kind.TICKET_RETURNED: ("no_show", {}),
        Kind.TICKET_TRANSFERRED: ("waiting", {"to_line": "ids", "keep_place": True}),
        Kind.TICKET_LEFT: ("waiting", {}),
        Kind.TICKET_LATE: ("waiting", {"places": 3}),
    }
    if kind in on_ticket:
        status, data = on_ticket[kind]
        ticket = a_ticket(hub, clerk, status)
        return pusher.event(kind, ticket=ticket["id"], line="records", staff=staff, data=data)
    simple: dict[Kind, dict[str, Any]] = {
        Kind.LINE_PAUSED: {"line": "payments", "data": {"reason": "lunch"}},
        Kind.LINE_RESUMED: {"line": "payments"},
        Kind.LINE_REROUTED: {"line": "payments", "data": {"to_line": "licenses"}},
        Kind.LINE_REROUTE_ENDED: {"line": "payments"},
        Kind.COUNTER_OPENED: {"data": {"counter": "c6"}},
        Kind.COUNTER_CLOSED: {"data": {"counter": "c6"}},
        Kind.ANNOUNCEMENT_SET: {"data": {"texts": {"en": "Closing at 4 pm"}}},
        Kind.DAY_ENDED: {},
        Kind.STAFF_SIGNED_IN: {"data": {"counter": "c6"}},
        Kind.STAFF_SIGNED_OUT: {"data": {"counter": "c6"}},
        Kind.DEVICE_ALERT: {"data": {"alert": "paper", "message": "low", "device": device}},
        Kind.OFFICE_CHANGED: {"data": {"what": "renamed line permits"}},
    }
    if kind is Kind.TICKET_ISSUED:
        return issued_event(pusher, "records", lease(hub, KIOSK, "records"))
    return pusher.event(kind, staff=staff, **simple[kind])


CASES = [
    (role, kind)
    for role in ROLES
    for kind in Kind
    if not (kind is Kind.DAY_ENDED and may(role, kind))  # it would close this hub's day
]


@pytest.mark.parametrize(("role", "kind"), CASES, ids=[f"{r}-{k}" for r, k in CASES])
def test_every_role_pushing_every_kind(hub: RunningHub, clerk: str, role: str, kind: Kind) -> None:
    device_role, _, staff = role.partition("+")
    pusher = Pusher(hub, DEVICE_IDS[device_role], SECRETS[device_role])
    events = []
    if staff:
        events.append(pusher.event(Kind.STAFF_SIGNED_IN, staff=staff, data={"counter": "c4"}))
    event = the_event(hub, clerk, pusher, kind, role)
    before = projection(hub, clerk)
    answer = pusher.push(*events, event)
    refused = {r["id"]: r["reason"] for r in answer["refused"]}
    assert answer["acknowledged_seq"] == pusher.seq  # refused ones are held too
    if may(role, kind):
        assert not refused, refused
        assert answer["accepted"] == len(events) + 1
    else:
        assert list(refused) == [event["id"]] and refused[event["id"]]
        assert projection(hub, clerk) == before


def test_the_day_can_be_ended_only_by_line_control_at_its_desk(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hub = start_hub(tmp_path_factory.mktemp("hub-end"))
    try:
        display = Pusher(hub, "display-1", DISPLAY)
        answer = display.push(display.event(Kind.DAY_ENDED))
        assert "display may not cause day.ended" in answer["refused"][0]["reason"]
        assert hub.post("/api/tickets", KIOSK, json={"line": "ids"}).status_code == 201
        desk = Pusher(hub, "desk-1", DESK)
        signed = desk.event(Kind.STAFF_SIGNED_IN, staff="maria", data={"counter": "c4"})
        assert desk.push(signed, desk.event(Kind.DAY_ENDED, staff="maria"))["refused"] == []
        assert hub.post("/api/tickets", KIOSK, json={"line": "ids"}).status_code == 409
    finally:
        stop_hub(hub)


def test_a_number_of_ten_to_the_thirty_is_refused_and_issuing_goes_on(hub: RunningHub) -> None:
    kiosk = Pusher(hub, "kiosk-1", KIOSK)
    event = issued_event(kiosk, "ids", lease(hub, KIOSK, "ids"))
    event["data"]["number"] = 10**30
    (refusal,) = kiosk.push(event)["refused"]
    assert "data.number" in refusal["reason"]
    for _ in range(3):
        assert hub.post("/api/tickets", KIOSK, json={"line": "ids"}).status_code == 201


def test_a_kiosk_issues_only_numbers_leased_to_it(hub: RunningHub) -> None:
    kiosk = Pusher(hub, "kiosk-1", KIOSK)
    theirs = lease(hub, KIOSK_2, "ids")
    mine = lease(hub, KIOSK, "ids")
    unleased = issued_event(kiosk, "ids", 499)
    borrowed = issued_event(kiosk, "ids", theirs)
    own = issued_event(kiosk, "ids", mine)
    again = issued_event(kiosk, "ids", mine)  # the same number twice
    answer = kiosk.push(unleased, borrowed, own, again)
    reasons = {r["id"]: r["reason"] for r in answer["refused"]}
    assert "not leased to kiosk-1" in reasons[unleased["id"]]
    assert "not leased to kiosk-1" in reasons[borrowed["id"]]
    assert "issued already" in reasons[again["id"]]
    assert own["id"] not in reasons and answer["accepted"] == 1


def test_clocks_a_year_fast_or_slow_and_days_that_do_not_match_are_refused(hub: RunningHub) -> None:
    kiosk = Pusher(hub, "kiosk-1", KIOSK)
    year = 365 * 24 * 3600 * 1000
    ahead = kiosk.event(
        Kind.DEVICE_ALERT,
        at=now_ms() + year,
        data={"alert": "x", "message": "y", "device": "kiosk-1"},
    )
    behind = kiosk.event(
        Kind.DEVICE_ALERT,
        at=now_ms() - year,
        data={"alert": "x", "message": "y", "device": "kiosk-1"},
    )
    wrong_day = issued_event(kiosk, "ids", lease(hub, KIOSK, "ids"))
    wrong_day["day"] = "2001-01-01"
    answer = kiosk.push(ahead, behind, wrong_day)
    reasons = {r["id"]: r["reason"] for r in answer["refused"]}
    assert "this device's clock is 365 days fast" in reasons[ahead["id"]]
    assert "this device's clock is 365 days slow" in reasons[behind["id"]]
    assert "does not match its stamp" in reasons[wrong_day["id"]]
    assert answer["acknowledged_seq"] == 3
    board = hub.get("/api/board", DESK).json()
    assert not any(a["alert"] == "x" for a in board["alerts"])


def test_refusals_of_one_push_make_one_alert_for_the_desk(hub: RunningHub) -> None:
    kiosk = Pusher(hub, "kiosk-2", KIOSK_2)
    bad = [kiosk.event(Kind.TICKET_LEFT, ticket="0" * 24, line="ids") for _ in range(3)]
    assert len(kiosk.push(*bad)["refused"]) == 3
    alerts = [a for a in hub.get("/api/board", DESK).json()["alerts"] if a["device"] == "kiosk-2"]
    (alert,) = [a for a in alerts if a["alert"] == "refused"]
    assert alert["message"].startswith("kiosk-2 sent 3 events that were refused: ticket.left")


def pull_all(hub: RunningHub, secret: str) -> str:
    """Everything a device pulls, as the raw text of the answers."""
    texts, after = [], 0
    while True:
        params = {"after": after, "limit": 1000}
        response = sync(hub, "GET", "/api/sync/pull", secret, params=params)
        assert response.status_code == 200, response.text
        texts.append(response.text)
        answer = response.json()
        after = answer["next"]
        if not answer["more"]:
            return "\n".join(texts)


def test_pull_gives_each_role_only_the_tokens_its_screens_use(hub: RunningHub) -> None:
    online = [hub.issue("ids")["token"] for _ in range(2)]
    kiosk = Pusher(hub, "kiosk-2", KIOSK_2)
    offline = issued_event(kiosk, "ids", lease(hub, KIOSK_2, "ids"))
    assert kiosk.push(offline)["refused"] == []
    mine = offline["data"]["token"]
    display, desk = pull_all(hub, DISPLAY), pull_all(hub, DESK)
    for body in (display, desk):
        assert '"token"' not in body
        assert not any(token in body for token in [*online, mine])
    kiosk_2 = pull_all(hub, KIOSK_2)
    assert mine in kiosk_2  # the ticket it issued itself
    assert not any(token in kiosk_2 for token in online)


def test_leases_are_capped_per_kiosk_and_line(hub: RunningHub) -> None:
    assert lease(hub, KIOSK_2, "payments", 100)  # the default cap: 100 unused numbers held
    response = sync(hub, "POST", "/api/sync/lease", KIOSK_2, json={"line": "payments", "count": 1})
    assert response.status_code == 409
    assert "holds 100 unused numbers" in response.text
    assert lease(hub, KIOSK, "payments", 20)  # another kiosk is not held back
    alerts = hub.get("/api/board", DESK).json()["alerts"]
    assert any(a["device"] == "kiosk-2" and a["alert"] == "lease" for a in alerts)


def test_a_kiosk_only_for_its_lines_and_a_desk_only_for_its_counters(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    kiosk_9, desk_9 = "kiosk-nine-secret-0123456789", "desk-nine-secret-0123456789"
    hub = start_hub(
        tmp_path_factory.mktemp("hub-scoped"),
        f'\n[[devices]]\nid = "kiosk-9"\nrole = "kiosk"\nsecret = "{kiosk_9}"\nlines = ["ids"]\n'
        f'\n[[devices]]\nid = "desk-9"\nrole = "desk"\nsecret = "{desk_9}"\ncounters = ["c5"]\n',
    )
    try:
        assert hub.post("/api/tickets", kiosk_9, json={"line": "ids"}).status_code == 201
        refused = hub.post("/api/tickets", kiosk_9, json={"line": "records"})
        assert refused.status_code == 409 and "kiosk-9 does not issue tickets for records" in (
            refused.text
        )
        lease_refused = sync(hub, "POST", "/api/sync/lease", kiosk_9, json={"line": "records"})
        assert lease_refused.status_code == 409
        kiosk = Pusher(hub, "kiosk-9", kiosk_9)
        (refusal,) = kiosk.push(issued_event(kiosk, "records", 600))["refused"]
        assert "does not issue tickets for records" in refusal["reason"]
        desk = Pusher(hub, "desk-9", desk_9)
        signed = desk.event(Kind.STAFF_SIGNED_IN, staff="tom", data={"counter": "c5"})
        elsewhere = desk.event(Kind.COUNTER_OPENED, staff="tom", data={"counter": "c4"})
        here = desk.event(Kind.COUNTER_OPENED, staff="tom", data={"counter": "c5"})
        answer = desk.push(signed, elsewhere, here)
        assert [r["id"] for r in answer["refused"]] == [elsewhere["id"]]
        assert "desk-9 may not act for counter c4" in answer["refused"][0]["reason"]
        # The same rule over REST, for a clerk signed in at that desk.
        login = hub.post("/api/staff/login", desk_9, json={"staff": "tom", "pin": PINS["tom"]})
        clerk = login.json()["token"]
        refused_rest = hub.post("/api/counters/c4/call-next", clerk)
        assert (
            refused_rest.status_code == 403
            and "desk-9 may not act for counter c4" in (refused_rest.json()["detail"])
        )
        assert hub.post("/api/counters/c5/open", clerk).status_code == 200
    finally:
        stop_hub(hub)


def test_sequence_numbers_and_positions_are_bounded(hub: RunningHub) -> None:
    kiosk = Pusher(hub, "kiosk-1", KIOSK)
    event = kiosk.event(Kind.DEVICE_ALERT, data={"alert": "x", "message": "", "device": "kiosk-1"})
    event["seq"] = 10**30
    pushed = sync(hub, "POST", "/api/sync/push", KIOSK, json={"events": [event]})
    assert pushed.status_code == 422 and "seq" in pushed.text
    pulled = sync(hub, "GET", "/api/sync/pull", KIOSK, params={"after": 10**30})
    assert pulled.status_code == 422
    forged = kiosk.event(Kind.DEVICE_ALERT, data={"alert": "x", "message": "", "device": "kiosk-1"})
    forged["hlc"] = forged["hlc"].replace(kiosk.writer, "hub")
    (refusal,) = kiosk.push(forged)["refused"]
    assert "names another device" in refusal["reason"]


def test_a_sign_in_at_the_hub_counts_for_the_desk_it_was_made_at(hub: RunningHub) -> None:
    desk_2 = "5ueZGHSlvJoJ-cn-qkni39uJAcRodC6A"
    login = hub.post("/api/staff/login", desk_2, json={"staff": "lin", "pin": "1357"})
    assert login.status_code == 200, login.text
    desk = Pusher(hub, "desk-2", desk_2)
    opened = desk.event(Kind.COUNTER_OPENED, staff="lin", data={"counter": "c5"})
    assert desk.push(opened)["refused"] == []  # no sign-in event of its own needed
    other = Pusher(hub, "desk-1", DESK)
    borrowed = other.event(Kind.STAFF_SIGNED_IN, staff="lin", data={"desk": "desk-2"})
    assert "a sign-in at desk-2, not at desk-1" in other.push(borrowed)["refused"][0]["reason"]
    assert hub.post("/api/staff/logout", login.json()["token"]).status_code == 204
    closed = desk.event(Kind.COUNTER_CLOSED, staff="lin", data={"counter": "c5"})
    assert "lin is not signed in at desk-2" in desk.push(closed)["refused"][0]["reason"]
