"""The rules, as pure functions over hand-built states."""

from __future__ import annotations

import pytest

from nowserving.domain import rules
from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.events import Kind
from nowserving.domain.payloads import payload_problem
from nowserving.domain.rules import next_for_counter, office_day
from nowserving.domain.state import Status
from nowserving.domain.views import line_view, pause_text
from tests.conftest import SAMPLE_ZONE, office_time
from tests.domain.builders import Log


def test_oldest_first_within_a_line() -> None:
    log = Log()
    first, second = log.issue("permits"), log.issue("permits")
    assert next_for_counter(log.state, ["permits"]).id == first  # type: ignore[union-attr]
    log.call(first, "c1")
    assert next_for_counter(log.state, ["permits"]).id == second  # type: ignore[union-attr]


def test_nobody_waiting_means_none() -> None:
    assert next_for_counter(Log().state, ["permits", "licenses"]) is None


def test_priority_goes_first_but_ordinary_residents_are_not_starved() -> None:
    log = Log()
    ordinary = log.issue("permits")
    priorities = [log.issue("permits", priority=True) for _ in range(4)]
    order = []
    for _ in range(5):
        chosen = next_for_counter(log.state, ["permits"])
        assert chosen is not None
        order.append(chosen.id)
        log.call(chosen.id, "c1")
        log.on(Kind.TICKET_SERVED, chosen.id)
    assert order[:2] == priorities[:2]
    assert order[2] == ordinary  # after two priority calls in a row
    assert order[3:] == priorities[2:]


def test_fair_across_lines_by_waiting_time() -> None:
    log = Log()
    a1 = log.issue("permits")
    b1 = log.issue("licenses")
    a2 = log.issue("permits")
    called = []
    for _ in range(3):
        chosen = next_for_counter(log.state, ["licenses", "permits"])
        assert chosen is not None
        called.append(chosen.id)
        log.call(chosen.id, "c2")
    assert called == [a1, b1, a2]


def test_paused_and_rerouted_lines_are_skipped() -> None:
    log = Log()
    log.issue("permits")
    b1 = log.issue("licenses")
    log.add(Kind.LINE_PAUSED, day=None, line="permits", reason="System upgrade")
    assert next_for_counter(log.state, ["permits", "licenses"]).id == b1  # type: ignore[union-attr]
    log.add(Kind.LINE_REROUTED, day=None, line="licenses", to_line="payments")
    assert next_for_counter(log.state, ["permits", "licenses"]) is None
    assert next_for_counter(log.state, ["payments"]).id == b1  # type: ignore[union-attr]


def test_transfer_keeps_its_place_or_goes_to_the_end() -> None:
    log = Log()
    early = log.issue("permits")
    waiting = log.issue("licenses")
    late = log.issue("permits")
    log.on(Kind.TICKET_TRANSFERRED, early, to_line="licenses", keep_place=True)
    assert [t.id for t in log.state.waiting("licenses")] == [early, waiting]
    log.on(Kind.TICKET_TRANSFERRED, late, to_line="licenses", keep_place=False)
    assert [t.id for t in log.state.waiting("licenses")] == [early, waiting, late]
    assert log.state.tickets[late].transferred_from == "permits"


def test_no_show_can_come_back_at_the_original_place() -> None:
    log = Log()
    first, second = log.issue("ids"), log.issue("ids")
    log.call(first, "c5")
    log.on(Kind.TICKET_NO_SHOW, first)
    assert log.state.tickets[first].status is Status.NO_SHOW
    log.on(Kind.TICKET_RETURNED, first)
    assert [t.id for t in log.state.waiting("ids")] == [first, second]
    assert log.state.tickets[first].returned


def test_calling_the_next_finishes_the_one_at_the_counter() -> None:
    log = Log()
    first, second = log.issue("permits"), log.issue("permits")
    log.call(first, "c1")
    log.call(second, "c1")
    assert log.state.tickets[first].status is Status.SERVED
    assert log.state.counters["c1"].current == second


def test_a_second_call_of_the_same_ticket_is_a_conflict_not_a_double_serve() -> None:
    log = Log()
    ticket = log.issue("permits")
    log.call(ticket, "c1")
    loser = log.call(ticket, "c2")
    assert log.state.tickets[ticket].counter == "c1"
    assert log.state.counter("c2").current is None
    (conflict,) = log.state.conflicts
    assert conflict.event_id == loser.id
    assert "already called at c1" in conflict.reason


def test_end_of_day_expires_what_was_not_served() -> None:
    log = Log()
    served, waiting, called = log.issue("payments"), log.issue("payments"), log.issue("ids")
    log.call(served, "c6")
    log.on(Kind.TICKET_SERVED, served)
    log.call(called, "c5")
    log.add(Kind.DAY_ENDED)
    statuses = {t: log.state.tickets[t].status for t in (served, waiting, called)}
    assert statuses == {served: Status.SERVED, waiting: Status.EXPIRED, called: Status.EXPIRED}
    assert not log.state.counters["c5"].open


def test_reroute_moves_waiting_residents_and_new_tickets(config: OfficeConfig) -> None:
    log = Log()
    moved = log.issue("records")
    log.add(Kind.LINE_REROUTED, day=None, line="records", to_line="ids")
    assert log.state.tickets[moved].line == "ids"
    assert rules.issue_target(log.state, config, "records") == "ids"
    log.add(Kind.LINE_REROUTE_ENDED, day=None, line="records")
    assert rules.issue_target(log.state, config, "records") == "records"


def test_reroute_loops_are_refused(config: OfficeConfig) -> None:
    log = Log()
    log.add(Kind.LINE_REROUTED, day=None, line="records", to_line="ids")
    with pytest.raises(Rejected, match="itself"):
        rules.decide_reroute(log.state, config, "ids", "records")
    log.add(Kind.LINE_REROUTED, day=None, line="ids", to_line="records")  # e.g. from a partition
    assert log.state.line("ids").reroute_to is None
    assert "loop" in log.state.conflicts[-1].reason


def test_issuing_into_a_paused_line_says_why(config: OfficeConfig) -> None:
    log = Log()
    log.add(Kind.LINE_PAUSED, day=None, line="permits", reason="Back at 2 pm")
    with pytest.raises(Rejected, match="Back at 2 pm") as refused:
        rules.issue_target(log.state, config, "permits")
    assert refused.value.code == "line_paused"  # the kiosk says it in the resident's language


def test_a_pause_reason_reaches_residents_in_their_language(config: OfficeConfig) -> None:
    log = Log()
    common = rules.decide_pause(log.state, config, "permits", "lunch")
    assert common.data["reason_id"] == "lunch" and common.data["reason"] == "Lunch break, back soon"
    assert common.data["texts"]["zh"] == "午休中，稍后回来"
    typed = rules.decide_pause(
        log.state, config, "ids", {"en": " Back at 2 ", "ar": "نعود الساعة 2"}
    )
    assert typed.data == {
        "reason": "Back at 2",
        "texts": {"en": "Back at 2", "ar": "نعود الساعة 2"},
    }
    for draft in (common, typed):
        assert payload_problem(log.add(draft.kind, day=None, line=draft.line, **draft.data)) is None
    permits, ids = (line_view(log.state, config, line) for line in ("permits", "ids"))
    assert pause_text(config, permits, "es") == "Hora del almuerzo, volvemos pronto"
    assert pause_text(config, ids, "ar") == "نعود الساعة 2"
    assert pause_text(config, ids, "vi") == "Back at 2"  # not given: the first language's
    # An event from before pause reasons had languages still reads.
    log.add(Kind.LINE_PAUSED, day=None, line="records", reason="System upgrade")
    assert pause_text(config, line_view(log.state, config, "records"), "es") == "System upgrade"
    with pytest.raises(Rejected, match="Not an office language"):
        rules.decide_pause(log.state, config, "ids", {"fr": "Fermé"})
    with pytest.raises(Rejected, match="at most 200"):
        rules.decide_pause(log.state, config, "ids", {"en": "x" * 201})


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (lambda s, c: rules.issue_target(s, c, "nope"), "no line 'nope'"),
        (lambda s, c: rules.decide_call_next(s, c, "c99"), "no counter 'c99'"),
        (
            lambda s, c: rules.decide_on_called(s, "missing", Kind.TICKET_SERVED, None),
            "not in today",
        ),
        (lambda s, c: rules.decide_pause(s, c, "permits", "  "), "Give a reason"),
        (lambda s, c: rules.decide_resume(s, c, "permits"), "not paused"),
        (lambda s, c: rules.decide_end_reroute(s, c, "permits"), "not rerouted"),
        (lambda s, c: rules.decide_announcement(c, {"xx": "hi"}), "Not an office language"),
    ],
)
def test_bad_requests_are_rejected_with_a_message(config: OfficeConfig, decide, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((Rejected, NotFound), match=message):
        decide(Log().state, config)


def test_an_out_of_order_call_needs_a_reason(config: OfficeConfig) -> None:
    log = Log()
    ticket = log.issue("permits")
    with pytest.raises(Rejected, match="Say why"):
        rules.decide_call_ticket(log.state, config, "c1", ticket, " ")
    draft = rules.decide_call_ticket(log.state, config, "c1", ticket, "Interpreter is here")
    assert draft.data == {"counter": "c1", "reason": "Interpreter is here"}


def test_office_day_rolls_over_at_local_midnight() -> None:
    assert office_day(office_time("2026-11-24 23:59"), SAMPLE_ZONE) == "2026-11-24"
    assert office_day(office_time("2026-11-25 00:00"), SAMPLE_ZONE) == "2026-11-25"


def test_tokens_are_unguessable_and_ids_do_not_reveal_them() -> None:
    tokens = {rules.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    token = next(iter(tokens))
    assert len(token) >= 22  # 16 bytes, base64
    assert rules.ticket_id(token) != token and token not in rules.ticket_id(token)


def test_labels() -> None:
    assert rules.ticket_label("A", 7) == "A-007"
    assert rules.ticket_label("C", 1001) == "C-1001"
