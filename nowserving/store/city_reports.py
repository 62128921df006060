"""`nowserving report --city URL`: the office reports across every office, computed in SQL.

The tables have the office reports' columns with `office` in front; `write_report`
turns them into the same CSV files, charts and PDF. Differences from one office's
report, which replays its log through the projection: a ticket counts for the line it
was issued to (transfers are counted, not followed), its wait runs to its first call,
and its service time from its last call to being served. Counter utilisation and the
staff audit stay with each office's own report.
"""

from __future__ import annotations

from datetime import date
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from nowserving.domain.errors import StoreError
from nowserving.store.city import reason
from nowserving.store.city_views import TARGETS
from nowserving.store.reports import Labels

# One row per ticket issued in the period: the tickets summary (migration 0002), which
# the database keeps from the events as they arrive, on its day index.
_TICKETS: LiteralString = """
WITH period AS (
    SELECT * FROM tickets
    WHERE day BETWEEN %(start)s AND %(end)s AND issued IS NOT NULL
      AND (%(line)s::text IS NULL OR line = %(line)s)
), measured AS (
    SELECT *, extract(epoch FROM called - issued) / 60 AS wait,
           extract(epoch FROM served - last_called) / 60 AS service
    FROM period
)
"""

LINES: LiteralString = (
    _TICKETS
    + """
SELECT office, day::text AS day, line, count(*)::int AS issued,
       count(*) FILTER (WHERE last_kind = 'ticket.served')::int AS served,
       count(*) FILTER (WHERE last_kind = 'ticket.no_show')::int AS no_shows,
       count(*) FILTER (WHERE last_kind = 'ticket.left')::int AS left,
       count(*) FILTER (WHERE last_kind IS NULL OR last_kind IN ('ticket.returned',
                        'ticket.called'))::int AS expired,
       sum(transfers)::int AS transfers,
       round(avg(remote::int), 3)::float AS remote_share,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY wait))::numeric, 1)::float
           AS wait_median,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY wait))::numeric, 1)::float
           AS wait_p90,
       round(max(wait)::numeric, 1)::float AS wait_max,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY service))::numeric, 1)::float
           AS service_median
FROM measured GROUP BY office, day, line ORDER BY day, office, line
"""
)

HOURS: LiteralString = (
    _TICKETS
    + """
SELECT m.office, m.day::text AS day,
       extract(hour FROM m.issued AT TIME ZONE o.timezone)::int AS hour, m.line,
       count(*)::int AS issued,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY m.wait))::numeric, 1)::float
           AS wait_median
FROM measured m JOIN offices o ON o.id = m.office
GROUP BY 1, 2, 3, 4 ORDER BY 2, 1, 3, 4
"""
)

SERVICE_LEVELS: LiteralString = (
    _TICKETS
    + """
, targets AS (
"""
    + TARGETS
    + """
), counted AS (
    SELECT m.office, m.day::text AS day, m.line, t.percent AS target_percent,
           t.within_minutes AS target_minutes,
           count(*) FILTER (WHERE m.wait <= t.within_minutes)::int AS within,
           count(*) FILTER (WHERE m.wait > t.within_minutes)::int AS late
    FROM measured m JOIN targets t USING (office, line)
    WHERE m.wait IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
)
SELECT *, round(100.0 * within / (within + late), 1)::float AS achieved_percent,
       100.0 * within >= target_percent * (within + late) AS met
FROM counted ORDER BY day, office, line
"""
)

STAFF: LiteralString = """
SELECT office, day::text AS day, staff, count(*)::int AS served,
       round(avg(extract(epoch FROM served - last_called) / 60)::numeric, 1)::float
           AS handling_mean
FROM tickets
WHERE served IS NOT NULL AND staff IS NOT NULL AND last_called <= served
  AND day BETWEEN %(start)s AND %(end)s AND (%(line)s::text IS NULL OR line = %(line)s)
GROUP BY 1, 2, 3 ORDER BY 2, 1, 3
"""

LABELS: LiteralString = """
SELECT o.id, o.name, l->>'id' AS line, l->>'name' AS line_name
FROM offices o CROSS JOIN LATERAL jsonb_array_elements(o.lines) l ORDER BY o.name, o.id
"""

TABLES: dict[str, LiteralString] = {
    "lines": LINES,
    "hours": HOURS,
    "service_levels": SERVICE_LEVELS,
    "staff": STAFF,
}


def build(
    url: str, start: date, end: date, line: str | None = None
) -> tuple[dict[str, list[dict[str, Any]]], Labels]:
    """Every table of the city report (those with rows), and what to call things."""
    params = {"start": start, "end": end, "line": line}
    try:
        with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
            tables = {name: conn.execute(sql, params).fetchall() for name, sql in TABLES.items()}
            names = conn.execute(LABELS).fetchall()
    except psycopg.OperationalError as exc:
        raise StoreError(f"The city database cannot be reached: {reason(exc)}") from None
    # Two offices' lines of one id are one service: the first office's name stands for it.
    lines: dict[str, str] = {}
    for row in names:
        lines.setdefault(row["line"], row["line_name"])
    for row in tables["lines"]:  # the CSV's "" for "no figure", as in one office's report
        for key, value in row.items():
            if value is None:
                row[key] = ""
    for row in tables["hours"]:
        if row["wait_median"] is None:
            row["wait_median"] = ""
    labels = Labels(f"All {len({row['id'] for row in names})} offices", lines, {})
    return {name: rows for name, rows in tables.items() if rows}, labels
