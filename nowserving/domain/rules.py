"""The office's rules as pure functions: given the state, what may happen next.

Each `decide_*` function checks one request against the current state and
returns the events to append, or raises `Rejected` with a message for the
person who asked. Nothing here touches the store, the clock or a screen.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nowserving.domain.clock import Stamp
from nowserving.domain.config import MAX_LATE_PLACES, OfficeConfig
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.estimate import WaitRange
from nowserving.domain.events import Draft, Kind
from nowserving.domain.opening import Hours
from nowserving.domain.state import OfficeState, Status, Ticket

PRIORITY_STREAK_LIMIT = 2  # priority calls in a row before an ordinary resident gets a turn
BOOKED_IN_A_ROW = 2  # appointments called in a row at a counter while walk-ins wait
FAIR_AFTER_MS = 0  # ... once the walk-in passed has waited this long (the config: 30 min)
# A checked-in appointment counts as due this long before its slot: a counter that frees up
# a little early takes it rather than a walk-in whose service would make it start late.
DUE_EARLY_MS = 5 * 60_000
TOKEN_BYTES = 16  # 128 bits: unguessable
MAX_PAUSE_REASON = 200  # characters per language, as payloads.Reason


def office_day(wall_ms: int, zone: ZoneInfo) -> str:
    """The office-local date (YYYY-MM-DD) at a moment: tickets number from 1 each day."""
    return datetime.fromtimestamp(wall_ms / 1000, UTC).astimezone(zone).date().isoformat()


def ticket_label(prefix: str, number: int) -> str:
    """What is printed and called: A-007, B-042, C-1001."""
    return f"{prefix}-{number:03d}"


def new_token() -> str:
    """A fresh resident token for the QR code (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


SHORT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: easy to type from paper


def short_code(token: str) -> str:
    """An 8-character code (40 bits) to type instead of scanning: /c/K7M2P9QX."""
    number = int.from_bytes(hashlib.sha256(f"short:{token}".encode()).digest()[:5], "big")
    return "".join(SHORT_ALPHABET[(number >> (5 * i)) & 31] for i in range(8))


def ticket_id(token: str) -> str:
    """The ticket's id, derived one way from its token: staff see ids, never tokens."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


def next_for_counter(
    state: OfficeState,
    lines: Sequence[str],
    streak_limit: int = PRIORITY_STREAK_LIMIT,
    *,
    counter: str | None = None,
    now: int | None = None,
    max_in_a_row: int = BOOKED_IN_A_ROW,
    fair_after: int = FAIR_AFTER_MS,
) -> Ticket | None:
    """The resident a counter serving `lines` should call next, or None.

    Within a line, priority residents go first, but after `streak_limit`
    priority calls in a row an ordinary resident gets a turn. Across lines the
    longest-waiting candidate wins, so no line starves. Paused and rerouted
    lines are skipped. An appointment whose slot has come, or comes within
    DUE_EARLY_MS (`now`, ms; None: the latest clock seen), goes before them all,
    unless `counter` has called `max_in_a_row` appointments in a row while walk-ins
    waited and the walk-in it would pass has waited `fair_after` ms or more: then a
    walk-in's turn (so walk-ins are never starved, yet a walk-in who just came does not
    make a due appointment wait for a whole service).
    """
    return _next_for_counter(state, lines, streak_limit, counter, now, max_in_a_row, fair_after)[0]


def _next_for_counter(
    state: OfficeState,
    lines: Sequence[str],
    streak_limit: int,
    counter: str | None,
    now: int | None,
    max_in_a_row: int,
    fair_after: int,
) -> tuple[Ticket | None, bool]:
    """(next_for_counter's choice, whether it is an appointment passing waiting walk-ins)."""
    if now is None:
        now = Stamp.decode(state.last_hlc).wall if state.last_hlc else 0
    candidates, due, early = [], [], []
    for line_id in dict.fromkeys(lines):
        line = state.line(line_id)
        if line.paused or line.reroute_to is not None:
            continue
        priority = state.first_waiting(line_id, priority=True)
        ordinary = state.first_waiting(line_id, priority=False)
        booked = state.first_booked(line_id)
        if booked is not None and booked.slot is not None and booked.slot <= now + DUE_EARLY_MS:
            due.append(booked)
        elif booked is not None and priority is None and ordinary is None:
            early.append(booked)  # before its slot, but nobody else waits in this line
        if priority and (ordinary is None or line.priority_streak < streak_limit):
            candidates.append(priority)
        elif ordinary:
            candidates.append(ordinary)
    walk_in = min(candidates, key=lambda t: t.queue_key, default=None)
    first_due = min(due, key=lambda t: t.queue_key, default=None)
    found = state.counters.get(counter or "")
    streak = found.booked_streak if found is not None else 0
    if first_due is not None and (
        walk_in is None or streak < max_in_a_row or now - walk_in.issued_at < fair_after
    ):
        return first_due, walk_in is not None
    if walk_in is not None:
        return walk_in, False
    return min(due or early, key=lambda t: t.queue_key, default=None), False


def _line(config: OfficeConfig, line_id: str) -> None:
    if line_id not in {line.id for line in config.lines}:
        raise NotFound(f"There is no line {line_id!r}.", code="no_such_line")


def _counter_lines(config: OfficeConfig, counter_id: str) -> list[str]:
    try:
        return list(config.counter(counter_id).lines)
    except KeyError:
        raise NotFound(f"There is no counter {counter_id!r}.") from None


def _ticket(state: OfficeState, ticket: str, *allowed: Status) -> Ticket:
    found = state.tickets.get(ticket)
    if found is None:
        raise NotFound("That ticket is not in today's lines.", code="ticket_unknown")
    if found.status not in allowed:
        raise Rejected(
            f"{found.label} is {found.status.value.replace('_', '-')}.", code="ticket_finished"
        )
    return found


def issue_target(state: OfficeState, config: OfficeConfig, line_id: str) -> str:
    """The line a new ticket for `line_id` joins (after reroutes), or Rejected."""
    _line(config, line_id)
    if state.ended:
        raise Rejected("The office has closed for today.", code="office_closed")
    target = state.effective_line(line_id)
    if any(line.retired_on for line in config.lines if line.id in (line_id, target)):
        raise Rejected("This line was removed: it takes no new tickets.", code="line_removed")
    line = state.line(target)
    if line.paused:
        raise Rejected(
            f"This line is paused: {line.pause_reason or 'please ask at the desk'}.",
            code="line_paused",
        )
    return target


def check_hours(hours: Hours, *, remote: bool = False) -> None:
    """Rejected when the line takes nobody now (closed, full for today), or, for a remote
    join, when remote joining has closed already; the screens say when it opens again."""
    if hours.status == "closed":
        raise Rejected("This line is closed now.", code="line_closed")
    if hours.status == "full":
        raise Rejected("This line is full for today: its wait runs past closing.", code="line_full")
    if remote and not hours.remote_open:
        raise Rejected(
            "Joining this line remotely has closed for today; the office still issues tickets.",
            code="remote_closed",
        )


def decide_issue(
    state: OfficeState,
    config: OfficeConfig,
    line_id: str,
    number: int,
    token: str,
    *,
    priority: bool = False,
    lang: str = "",
    source: str = "kiosk",
    shown: WaitRange | None = None,
    appointment: int | None = None,
) -> Draft:
    """A ticket for `line_id` with an already allocated `number` in its target line.

    `shown` is the wait the resident was shown, kept so reports can check it;
    `appointment` the slot start (ms) of a booking checking in: its place in line.
    """
    target = issue_target(state, config, line_id)
    data = {
        "number": number,
        "label": ticket_label(config.line(target).prefix, number),
        "token": token,
        "priority": priority,
        "lang": lang or config.default_language,
        "source": source,
    }
    if target != line_id:
        data["requested_line"] = line_id
    if appointment is not None:
        data["appointment"] = appointment
    if shown is not None:  # what the resident saw, checked in the reports
        data["shown"] = [shown.low, shown.high]
        data["point"] = shown.point
    return Draft(Kind.TICKET_ISSUED, state.day, ticket=ticket_id(token), line=target, data=data)


def decide_call_next(
    state: OfficeState,
    config: OfficeConfig,
    counter_id: str,
    staff: str | None = None,
    now: int | None = None,
) -> Draft | None:
    """Call the next resident to a counter; None when nobody is waiting for it."""
    chosen, passed = _next_for_counter(
        state,
        _counter_lines(config, counter_id),
        PRIORITY_STREAK_LIMIT,
        counter_id,
        now,
        config.booking.max_in_a_row,
        config.booking.fair_after_minutes * 60_000,
    )
    if chosen is None:
        return None
    draft = _call(state, chosen, counter_id, staff, reason=None)
    if passed:  # counts toward the counter's appointments in a row (fairness)
        draft.data["passed_walk_ins"] = True
    return draft


def decide_call_ticket(
    state: OfficeState,
    config: OfficeConfig,
    counter_id: str,
    ticket: str,
    reason: str,
    staff: str | None = None,
) -> Draft:
    """Call one waiting ticket out of order; the reason goes into the audit log."""
    _counter_lines(config, counter_id)
    if not reason.strip():
        raise Rejected("Say why this ticket is called out of order.")
    return _call(state, _ticket(state, ticket, Status.WAITING), counter_id, staff, reason.strip())


def _call(
    state: OfficeState, ticket: Ticket, counter_id: str, staff: str | None, reason: str | None
) -> Draft:
    data: dict[str, object] = {"counter": counter_id}
    if reason:
        data["reason"] = reason
    return Draft(Kind.TICKET_CALLED, state.day, ticket.id, ticket.line, staff, data)


def decide_on_called(state: OfficeState, ticket: str, kind: Kind, staff: str | None) -> Draft:
    """Recall, served or no-show: all act on a ticket that is at a counter now."""
    found = _ticket(state, ticket, Status.CALLED)
    data = {"counter": found.counter} if kind is Kind.TICKET_RECALLED else {}
    return Draft(kind, state.day, found.id, found.line, staff, data)


def decide_return(state: OfficeState, ticket: str, staff: str | None = None) -> Draft:
    """A no-show came back: they wait again, at their original place."""
    found = _ticket(state, ticket, Status.NO_SHOW)
    return Draft(Kind.TICKET_RETURNED, state.day, found.id, found.line, staff)


def decide_transfer(
    state: OfficeState,
    config: OfficeConfig,
    ticket: str,
    to_line: str,
    *,
    keep_place: bool = True,
    staff: str | None = None,
) -> Draft:
    """Move a ticket to another line, keeping its place by issue time or to the end."""
    _line(config, to_line)
    found = _ticket(state, ticket, Status.WAITING, Status.CALLED)
    if state.effective_line(to_line) == found.line:
        raise Rejected(f"{found.label} is already in that line.")
    data = {"to_line": to_line, "keep_place": keep_place}
    return Draft(Kind.TICKET_TRANSFERRED, state.day, found.id, found.line, staff, data)


def decide_leave(state: OfficeState, token: str, *, by_text: bool = False) -> Draft:
    """The resident leaves the line from their phone (`by_text`: by a text message back)."""
    found = _ticket(state, ticket_id(token), Status.WAITING, Status.CALLED)
    data = {"via": "sms"} if by_text else {}
    return Draft(Kind.TICKET_LEFT, state.day, found.id, found.line, data=data)


def decide_late(state: OfficeState, ticket: str, places: int) -> Draft:
    """A waiting resident running late moves back `places` places, once per ticket."""
    found = _ticket(state, ticket, Status.WAITING)
    if found.moved_back:
        raise Rejected(f"{found.label} has already moved back once.", code="already_late")
    if not 1 <= places <= MAX_LATE_PLACES:
        raise Rejected(f"Move back 1 to {MAX_LATE_PLACES} places.")
    return Draft(Kind.TICKET_LATE, state.day, found.id, found.line, data={"places": places})


KIOSK_CONTACT_WINDOW_MS = 5 * 60 * 1000  # a kiosk may add a number this long after issuing


def check_kiosk_contact(ticket: Ticket, issuer: str | None, device: str, now_ms: int) -> None:
    """Whether kiosk `device` may leave a number for `ticket` (Rejected if not): only for a
    ticket it issued itself (`issuer`: the device that asked for it), within a few minutes
    of issuing it, while the resident is likely still at the screen."""
    if issuer != device:
        raise Rejected(
            "A kiosk may add a number only to a ticket it issued.", code="not_issued_here"
        )
    if now_ms - ticket.issued_at > KIOSK_CONTACT_WINDOW_MS:
        raise Rejected(
            "Too late to add a number at the kiosk; use the link on the receipt.",
            code="kiosk_too_late",
        )


def check_remote_join(config: OfficeConfig, line_id: str, waiting_remote: int) -> None:
    """Whether a line may be joined from afar now (NotFound or Rejected if not), given how
    many who joined remotely wait in it: the join page's and text-to-join's one rule."""
    _line(config, line_id)
    configured = config.line(line_id)
    if not configured.remote_join:
        raise Rejected(
            "This line cannot be joined remotely; please come to the office.",
            code="remote_not_allowed",
        )
    if waiting_remote >= configured.remote_cap:
        raise Rejected(
            "This line is full for remote joining. Please come to the office.",
            code="remote_full",
        )


def _pause_texts(
    config: OfficeConfig, reason: str | Mapping[str, str]
) -> tuple[str | None, dict[str, str]]:
    """(the configured reason's id or None, the reason in each language it is given in).

    `reason` is the id of one of the office's [[pause_reasons]], free text in the first
    language, or free text per language.
    """
    if isinstance(reason, str):
        try:
            configured = config.pause_reason(reason.strip())
        except KeyError:
            return None, {config.default_language: reason.strip()} if reason.strip() else {}
        return configured.id, config.in_every_language(configured.text)
    texts = {lang: text.strip() for lang, text in reason.items() if text.strip()}
    strangers = sorted(set(texts) - set(config.office.languages))
    if strangers:
        raise Rejected(f"Not an office language: {', '.join(strangers)}.")
    return None, texts


def decide_pause(
    state: OfficeState,
    config: OfficeConfig,
    line_id: str,
    reason: str | Mapping[str, str],
    staff: str | None = None,
) -> Draft:
    """Pause a line; residents read the reason in their language (see _pause_texts)."""
    _line(config, line_id)
    reason_id, texts = _pause_texts(config, reason)
    if not texts:
        raise Rejected("Give a reason: residents see it on the kiosk and the display.")
    if any(len(text) > MAX_PAUSE_REASON for text in texts.values()):
        raise Rejected(f"A pause reason is at most {MAX_PAUSE_REASON} characters.")
    data = {"reason": config.text(texts, config.default_language), "texts": texts}
    if reason_id:
        data["reason_id"] = reason_id
    return Draft(Kind.LINE_PAUSED, None, line=line_id, staff=staff, data=data)


def decide_resume(
    state: OfficeState, config: OfficeConfig, line_id: str, staff: str | None = None
) -> Draft:
    _line(config, line_id)
    if not state.line(line_id).paused:
        raise Rejected("That line is not paused.")
    return Draft(Kind.LINE_RESUMED, None, line=line_id, staff=staff)


def decide_reroute(
    state: OfficeState, config: OfficeConfig, line_id: str, to_line: str, staff: str | None = None
) -> Draft:
    _line(config, line_id)
    _line(config, to_line)
    if line_id == to_line or state.effective_line(to_line) == line_id:
        raise Rejected("A line cannot be rerouted to itself.")
    data = {"to_line": to_line}
    return Draft(Kind.LINE_REROUTED, None, line=line_id, staff=staff, data=data)


def decide_end_reroute(
    state: OfficeState, config: OfficeConfig, line_id: str, staff: str | None = None
) -> Draft:
    _line(config, line_id)
    if state.line(line_id).reroute_to is None:
        raise Rejected("That line is not rerouted.")
    return Draft(Kind.LINE_REROUTE_ENDED, None, line=line_id, staff=staff)


def decide_counter(
    state: OfficeState, config: OfficeConfig, counter_id: str, *, open: bool, staff: str | None
) -> Draft:
    _counter_lines(config, counter_id)
    kind = Kind.COUNTER_OPENED if open else Kind.COUNTER_CLOSED
    return Draft(kind, state.day, staff=staff, data={"counter": counter_id})


def decide_announcement(
    config: OfficeConfig, texts: dict[str, str], staff: str | None = None
) -> Draft:
    unknown = set(texts) - set(config.office.languages)
    if unknown:
        raise Rejected(f"Not an office language: {', '.join(sorted(unknown))}.")
    if any(len(text) > 500 for text in texts.values()):
        raise Rejected("An announcement is at most 500 characters.")
    clean = {lang: text.strip() for lang, text in texts.items() if text.strip()}
    return Draft(Kind.ANNOUNCEMENT_SET, None, staff=staff, data={"texts": clean})


def decide_end_day(state: OfficeState, staff: str | None = None) -> Draft:
    if state.ended:
        raise Rejected("Today has already been closed.")
    return Draft(Kind.DAY_ENDED, state.day, staff=staff)
