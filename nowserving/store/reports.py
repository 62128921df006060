"""Reports for the office manager, straight from the event log, in the office's time zone.

Per line and day, per hour, per counter, the estimates against what happened,
the staff actions worth auditing, and an anonymised open-data export. Written
as CSV files, a few PNG charts and a one-page PDF summary (matplotlib).
"""

from __future__ import annotations

import csv
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nowserving.domain.clock import wall_ms
from nowserving.domain.config import OfficeConfig
from nowserving.domain.estimate import Accuracy, Outcome
from nowserving.domain.events import Event, Kind
from nowserving.domain.service_level import Level, assess
from nowserving.domain.state import OfficeState, Status, apply
from nowserving.domain.views import plain_wait_for
from nowserving.store import appointments
from nowserving.store.eventstore import EventStore
from nowserving.system.files import private_folder, private_opener


@dataclass
class TicketFacts:
    """One resident's visit, as the reports need it."""

    day: str
    line: str
    issued_at: int
    source: str
    first_called: int | None = None
    served_ms: int | None = None
    outcome: str = "waiting"
    transfers: int = 0
    shown: tuple[int, int] | None = None
    point: int | None = None  # "about N min", as shown at issue
    ahead: int = 0  # residents ahead at issue
    plain: float | None = None  # the plain formula's wait at issue, to compare with
    served_by: str | None = None  # the staff member who completed it (None once purged)
    slot: int | None = None  # a checked-in booking's slot start (ms): an appointment

    def outcome_of_estimate(self) -> Outcome | None:
        """The estimate shown and the wait that followed (None: not shown, or never called)."""
        if self.shown is None or self.point is None or self.first_called is None:
            return None
        waited = (self.first_called - self.issued_at) / 60_000
        return Outcome(self.ahead, *self.shown, self.point, self.plain, waited)


@dataclass
class DayFacts:
    tickets: dict[str, TicketFacts] = field(default_factory=dict)
    open_ms: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    busy_ms: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    audit: list[dict[str, Any]] = field(default_factory=list)
    issued_at: dict[str, int] = field(default_factory=dict)  # by ticket token (check-ins)


# What the audit lists: staff actions someone may ask about later.
AUDITED = frozenset(
    {
        Kind.TICKET_CALLED,
        Kind.TICKET_TRANSFERRED,
        Kind.TICKET_NO_SHOW,
        Kind.TICKET_RETURNED,
        Kind.LINE_PAUSED,
        Kind.LINE_RESUMED,
        Kind.LINE_REROUTED,
        Kind.LINE_REROUTE_ENDED,
        Kind.OFFICE_CHANGED,  # what an admin changed at the hub
    }
)
AUDIT_COLUMNS = ["time", "device", "staff", "action", "ticket", "line", "to_line", "reason"]
# Every report writes these files, even on a quiet day (an empty audit is its header).
TABLES = {"lines", "hours", "counters", "staff_actions", "open_data"}
# An appointment called at most this long after its slot's start was called on time.
PUNCTUAL_MS = 5 * 60_000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def collect_day(day: str, events: list[Event], config: OfficeConfig) -> DayFacts:
    """Replay one day through the projection and note what each event did."""
    facts = DayFacts()
    state = OfficeState(day)
    opened: dict[str, int] = {}
    for event in sorted(events, key=lambda e: e.hlc):
        before = state.tickets.get(event.ticket or "")
        status_before = before.status if before else None
        apply(state, event)
        if event.day not in (None, day):
            continue
        ticket = state.tickets.get(event.ticket or "")
        if event.kind is Kind.TICKET_ISSUED and ticket is not None:
            if ticket.token:
                facts.issued_at[ticket.token] = ticket.issued_at
            shown, point = event.data.get("shown"), event.data.get("point")
            ahead = state.ahead(ticket)
            facts.tickets[ticket.id] = TicketFacts(
                day,
                ticket.line,
                ticket.issued_at,
                ticket.source,
                shown=(int(shown[0]), int(shown[1])) if shown else None,
                point=int(point) if point is not None else None,
                ahead=ahead,
                plain=plain_wait_for(state, config, ticket.line, ahead),
                slot=ticket.slot,
            )
        if ticket is not None and ticket.id in facts.tickets:
            record = facts.tickets[ticket.id]
            record.line = ticket.line
            first_call = ticket.status is Status.CALLED and status_before is Status.WAITING
            if first_call and record.first_called is None:
                record.first_called = event.wall
            if event.kind is Kind.TICKET_TRANSFERRED and status_before != ticket.status:
                record.transfers += 1
            if ticket.status is Status.SERVED and status_before is Status.CALLED:
                record.served_ms = (ticket.finished_at or event.wall) - (ticket.called_at or 0)
                record.served_by = event.staff
                if ticket.counter:
                    facts.busy_ms[ticket.counter] += record.served_ms
            record.outcome = ticket.status.value
        counter = str(event.data.get("counter", ""))
        if event.kind in (Kind.COUNTER_OPENED, Kind.TICKET_CALLED) and counter not in opened:
            opened[counter] = event.wall
        elif event.kind is Kind.COUNTER_CLOSED and counter in opened:
            facts.open_ms[counter] += event.wall - opened.pop(counter)
        if event.staff and event.kind in AUDITED:
            facts.audit.append(
                {
                    "time": event.wall,
                    "device": event.device.split("~")[0],
                    "staff": event.staff,
                    "action": event.kind.value,
                    "ticket": ticket.label if ticket else "",
                    "line": event.line or "",
                    "to_line": event.data.get("to_line", ""),  # a transfer's or reroute's target
                    "reason": event.data.get("reason", event.data.get("what", "")),
                }
            )
    end = max((e.wall for e in events if e.day == day), default=0)
    for counter, since in opened.items():
        facts.open_ms[counter] += max(0, end - since)
    return facts


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def build(
    store: EventStore,
    config: OfficeConfig,
    start: date,
    end: date,
    line: str | None = None,
    now: int | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every table of the report, as lists of rows (dicts); `now` (ms, default the clock)
    decides which bookings' check-in time is over."""
    zone = ZoneInfo(config.office.timezone)
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    issued_at: dict[str, int] = {}  # when each ticket was issued, by token: check-in times
    compared: dict[tuple[str, str], dict[str, Any]] = {}  # by day and line, for bookings
    for day in _days(start, end):
        events = store.events_for_day(day)
        if not any(e.day == day for e in events):
            continue
        facts = collect_day(day, events, config)
        issued_at |= facts.issued_at
        tickets = [t for t in facts.tickets.values() if line is None or t.line == line]
        for line_id in sorted({t.line for t in tickets}):
            of_line = [t for t in tickets if t.line == line_id]
            tables["lines"].append(_line_row(day, line_id, of_line))
            compared[(day, line_id)] = _appointment_waits(of_line)
        by_hour: dict[tuple[int, str], list[TicketFacts]] = defaultdict(list)
        for ticket in tickets:
            hour = datetime.fromtimestamp(ticket.issued_at / 1000, zone).hour
            by_hour[(hour, ticket.line)].append(ticket)
        for (hour, line_id), group in sorted(by_hour.items()):
            row = _line_row(day, line_id, group)
            tables["hours"].append(
                {"day": day, "hour": hour, **{k: v for k, v in row.items() if k != "day"}}
            )
        for counter in config.counters:
            open_ms = facts.open_ms.get(counter.id, 0)
            if open_ms:
                busy = facts.busy_ms.get(counter.id, 0)
                tables["counters"].append(
                    {
                        "day": day,
                        "counter": counter.id,
                        "open_minutes": round(open_ms / 60_000),
                        "busy_minutes": round(busy / 60_000),
                        "utilisation": round(min(1.0, busy / open_ms), 3),
                    }
                )
        outcomes = [o for t in tickets if (o := t.outcome_of_estimate()) is not None]
        if outcomes:
            tables["estimates"].append({"day": day, **_accuracy_row(Accuracy.of(outcomes))})
        tables["staff"] += _staff_rows(day, tickets)
        tables["service_levels"] += _level_rows(day, config, tickets)
        for entry in facts.audit:
            moment = datetime.fromtimestamp(entry["time"] / 1000, zone)
            tables["staff_actions"].append({**entry, "time": moment.strftime("%Y-%m-%d %H:%M:%S")})
        for ticket in tickets:
            tables["open_data"].append(_anonymous(ticket, zone))
    # Kept in the hub's store only (a device's replica has none): not events, so not per
    # replayed day. No-shows count once check-in exists (see appointments.report_rows).
    grace = config.booking.grace_minutes * 60_000
    booked = appointments.report_rows(
        store, start.isoformat(), end.isoformat(), now or wall_ms(), grace, issued_at, line
    )
    for row in booked:  # and how their waits compare with the walk-ins' that day
        row.update(compared.get((row["day"], row["line"])) or _appointment_waits([]))
    if booked:
        tables["bookings"] = booked
    return tables


def _appointment_waits(tickets: list[TicketFacts]) -> dict[str, Any]:
    """One line's day, appointments against walk-ins: how many of each, their median and
    90th-percentile waits in minutes (an appointment's from its slot, or its check-in if that
    came later; a walk-in's from its ticket), and the percentage of appointments called
    within PUNCTUAL_MS of their slot. A late check-in's ticket is a walk-in's."""
    booked = [t for t in tickets if t.slot is not None]
    walk_ins = [t for t in tickets if t.slot is None]
    called = [(t.slot or 0, t.issued_at, t.first_called) for t in booked if t.first_called]
    waits = [max(0, first - max(slot, issued)) for slot, issued, first in called]
    walked = [t.first_called - t.issued_at for t in walk_ins if t.first_called]
    punctual = sum(1 for slot, _, first in called if first <= slot + PUNCTUAL_MS)
    return {
        "appointments": len(booked),
        **_waits("appointment", waits),
        "punctual_percent": round(100 * punctual / len(called), 1) if called else "",
        "walk_ins": len(walk_ins),
        **_waits("walk_in", walked),
    }


def _waits(who: str, waits_ms: list[int]) -> dict[str, Any]:
    minutes = _minutes(waits_ms)
    return {
        f"{who}_wait_median": round(statistics.median(minutes), 1) if minutes else "",
        f"{who}_wait_p90": round(_percentile(minutes, 0.9), 1) if minutes else "",
    }


def _minutes(ms: list[int]) -> list[float]:
    return [m / 60_000 for m in ms]


def _line_row(day: str, line: str, tickets: list[TicketFacts]) -> dict[str, Any]:
    waits = _minutes([t.first_called - t.issued_at for t in tickets if t.first_called])
    services = _minutes([t.served_ms for t in tickets if t.served_ms is not None])
    shown = [t for t in tickets if t.shown and t.first_called]
    inside = sum(
        1
        for t in shown
        if t.shown
        and t.first_called
        and t.shown[0] <= (t.first_called - t.issued_at) / 60_000 <= t.shown[1]
    )
    count = len(tickets)
    return {
        "day": day,
        "line": line,
        "issued": count,
        "served": sum(1 for t in tickets if t.outcome == "served"),
        "no_shows": sum(1 for t in tickets if t.outcome == "no_show"),
        "left": sum(1 for t in tickets if t.outcome == "left"),
        # Still waiting or at a counter when the day's log ends: never finished.
        "expired": sum(1 for t in tickets if t.outcome in ("expired", "waiting", "called")),
        "transfers": sum(t.transfers for t in tickets),
        "remote_share": round(sum(1 for t in tickets if t.source == "remote") / count, 3)
        if count
        else 0.0,
        "wait_median": round(statistics.median(waits), 1) if waits else "",
        "wait_p90": round(_percentile(waits, 0.9), 1) if waits else "",
        "wait_max": round(max(waits), 1) if waits else "",
        "service_median": round(statistics.median(services), 1) if services else "",
        "estimate_held": round(inside / len(shown), 3) if shown else "",
    }


def _staff_rows(day: str, tickets: list[TicketFacts]) -> list[dict[str, Any]]:
    """Per staff member: residents served and the average handling time (for line control)."""
    handled: dict[str, list[int]] = defaultdict(list)
    for ticket in tickets:
        if ticket.served_by and ticket.served_ms is not None:
            handled[ticket.served_by].append(ticket.served_ms)
    return [
        {
            "day": day,
            "staff": staff,
            "served": len(times),
            "handling_mean": round(statistics.mean(_minutes(times)), 1),
        }
        for staff, times in sorted(handled.items())
    ]


def _level_rows(day: str, config: OfficeConfig, tickets: list[TicketFacts]) -> list[dict[str, Any]]:
    """Per line with a service level: residents called within it, late, and whether it held.
    Residents never called (left, unfinished) do not count, as in the live check."""
    rows = []
    for line in config.lines:
        target = line.service_level
        waits = [
            (t.first_called - t.issued_at) / 60_000
            for t in tickets
            if t.line == line.id and t.first_called is not None
        ]
        if target is None or not waits:
            continue
        check = assess(target, waits, [])
        rows.append(
            {
                "day": day,
                "line": line.id,
                "target_percent": target.percent,
                "target_minutes": target.within_minutes,
                "within": check.within,
                "late": check.late,
                "achieved_percent": round(check.achieved, 1),
                "met": check.level is not Level.BREACHED,
            }
        )
    return rows


def _accuracy_row(accuracy: Accuracy) -> dict[str, Any]:
    """The figures `nowserving simulate` prints, for one real day."""
    return {
        "measured": accuracy.measured,
        "inside_range": round(accuracy.coverage, 3),
        "with_someone_ahead": accuracy.with_ahead,
        "inside_range_with_someone_ahead": round(accuracy.coverage_ahead, 3),
        "median_width_with_someone_ahead": round(accuracy.median_width_ahead, 1),
        "point_error_minutes": round(accuracy.point_error, 1),
        "plain_formula_error_minutes": round(accuracy.plain_error, 1),
    }


def _anonymous(ticket: TicketFacts, zone: ZoneInfo) -> dict[str, Any]:
    """One visit with nothing that identifies anyone: times rounded to 15 minutes."""
    issued = datetime.fromtimestamp(ticket.issued_at / 1000, zone)
    rounded = issued.replace(minute=issued.minute // 15 * 15, second=0, microsecond=0)
    wait = (ticket.first_called - ticket.issued_at) / 60_000 if ticket.first_called else None
    return {
        "day": ticket.day,
        "line": ticket.line,
        "issued_quarter_hour": rounded.strftime("%H:%M"),
        "wait_minutes": round(wait) if wait is not None else "",
        "service_minutes": round(ticket.served_ms / 60_000) if ticket.served_ms else "",
        "outcome": ticket.outcome,
        "joined_by_phone": ticket.source == "remote",
    }


def write_report(
    tables: dict[str, list[dict[str, Any]]], config: OfficeConfig | Labels, out: Path, title: str
) -> list[Path]:
    """CSV files, PNG charts and a one-page PDF summary in `out`."""
    private_folder(out)
    written = []
    for name in sorted(TABLES | set(tables)):
        rows = tables.get(name, [])
        columns = list(rows[0]) if rows else AUDIT_COLUMNS if name == "staff_actions" else []
        path = out / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8", opener=private_opener) as handle:
            if columns:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        written.append(path)
    written += _charts(tables, config, out, title)
    return written


def chart_png(tables: dict[str, list[dict[str, Any]]], config: OfficeConfig, name: str) -> bytes:
    """One chart ("volume", "waits" or "counters") as PNG bytes, for a live dashboard."""
    with tempfile.TemporaryDirectory() as folder:
        paths = _charts(tables, config, Path(folder), "", only=name)
        return paths[0].read_bytes() if paths else b""


@dataclass(frozen=True)
class Labels:
    """What the charts call things: the heading, and lines' and counters' names by id (in
    the order to show them). One office's come from its config; the city's from its
    database (store/city_reports.py)."""

    heading: str
    lines: dict[str, str]
    counters: dict[str, str]

    @classmethod
    def of(cls, config: OfficeConfig) -> Labels:
        lang = config.default_language
        return cls(
            config.office.name,
            {line.id: config.text(line.name, lang) for line in config.lines},
            {c.id: config.counter_name(c.id, lang) for c in config.counters},
        )


def counter_utilisation(
    tables: dict[str, list[dict[str, Any]]], config: OfficeConfig | Labels
) -> dict[str, float]:
    """Each counter's mean utilisation over the days, by its name, in the office's order."""
    labels = config if isinstance(config, Labels) else Labels.of(config)
    shares: dict[str, list[float]] = defaultdict(list)
    for row in tables.get("counters", []):
        shares[row["counter"]].append(row["utilisation"])
    return {name: statistics.fmean(shares[c]) for c, name in labels.counters.items() if c in shares}


def _charts(
    tables: dict[str, list[dict[str, Any]]],
    config: OfficeConfig | Labels,
    out: Path,
    title: str,
    only: str | None = None,
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    labels = config if isinstance(config, Labels) else Labels.of(config)
    names = labels.lines
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in tables.get("lines", []):
        for key in ("issued", "served", "no_shows", "left"):
            totals[row["line"]][key] += row[key]
    hourly: dict[int, list[float]] = defaultdict(list)
    for row in tables.get("hours", []):
        if row["wait_median"] != "":
            hourly[row["hour"]].append(float(row["wait_median"]))
    utilisation = counter_utilisation(tables, labels)

    def volume(ax: Any) -> None:
        lines = list(totals)
        served = [totals[line]["served"] for line in lines]
        other = [totals[line]["issued"] - totals[line]["served"] for line in lines]
        labels = [names.get(line, line) for line in lines]
        ax.barh(labels, served, color="#1a5fb4", label="served")
        ax.barh(labels, other, left=served, color="#e66100", label="not served")
        ax.set_title("Residents per service")
        ax.legend(loc="lower right")

    def waits(ax: Any) -> None:
        hours = sorted(hourly)
        ax.plot(hours, [statistics.median(hourly[h]) for h in hours], marker="o", color="#1a5fb4")
        ax.set_title("Median wait by hour of arrival (minutes)")
        ax.set_xlabel("hour")

    def counters(ax: Any) -> None:
        ax.bar(list(utilisation), [100 * share for share in utilisation.values()], color="#26a269")
        ax.set_ylim(0, 100)
        ax.set_title("Counter utilisation (%)")

    written = []
    for name, draw in (("volume", volume), ("waits", waits), ("counters", counters)):
        if only is not None and name != only:
            continue
        figure, axis = plt.subplots(figsize=(8, 4))
        draw(axis)
        figure.tight_layout()  # room for long service names
        path = out / f"{name}.png"
        with open(path, "wb", opener=private_opener) as image:
            figure.savefig(image, format="png", dpi=120)
        plt.close(figure)
        written.append(path)
    if only is not None:
        return written
    pdf = out / "summary.pdf"
    with open(pdf, "wb", opener=private_opener) as handle, PdfPages(handle) as document:
        figure = plt.figure(figsize=(8.27, 11.69))  # A4
        issued = sum(t["issued"] for t in totals.values())
        served = sum(t["served"] for t in totals.values())
        figure.suptitle(f"{labels.heading}\n{title}", fontsize=15)
        figure.text(
            0.08,
            0.9,
            f"{issued:.0f} residents took a ticket, {served:.0f} were served.",
            fontsize=11,
        )
        for n, draw in enumerate((volume, waits, counters)):
            draw(figure.add_axes((0.3, 0.62 - n * 0.28, 0.62, 0.22)))
        document.savefig(figure)
        plt.close(figure)
    written.append(pdf)
    return written
