"""What the city service reads from the city database: every aggregate is one SQL query.

Offices stream their events and their lines' state (store/city.py); an office not
heard from for `stale_seconds` counts as closed (its hub is off or cut off). "Today"
is each office's own day, in its own time zone.
"""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from nowserving.domain.errors import StoreError

STALE_SECONDS = 120  # offices stream at least every 15 s (hub/city_stream.HEARTBEAT_S)
POOL_TIMEOUT_S = 5.0

# Every line of every office as it is now: open (counters serving it), paused, or closed.
_LINES = """
WITH lines AS (
    SELECT o.id AS office, o.name AS office_name, l.value->>'id' AS line,
           l.value->>'name' AS name, l.n, coalesce(s.waiting, 0) AS waiting,
           s.wait_low, s.wait_high,
           CASE WHEN o.seen_at < now() - make_interval(secs => %(stale)s)
                     OR s.line IS NULL OR s.counters_open = 0 THEN 'closed'
                WHEN s.paused THEN 'paused' ELSE 'open' END AS status
    FROM offices o
    CROSS JOIN LATERAL jsonb_array_elements(o.lines) WITH ORDINALITY AS l(value, n)
    LEFT JOIN lines_now s ON s.office = o.id AND s.line = l.value->>'id'
)
"""

WAITS_OFFICES = (
    _LINES
    + """
SELECT office, office_name,
       CASE WHEN bool_or(status = 'open') THEN 'open'
            WHEN bool_or(status = 'paused') THEN 'paused' ELSE 'closed' END AS status,
       sum(waiting)::int AS waiting,
       jsonb_agg(jsonb_build_object('id', line, 'name', name, 'status', status,
                 'waiting', waiting, 'wait_low', wait_low, 'wait_high', wait_high)
                 ORDER BY n) AS lines
FROM lines GROUP BY office, office_name ORDER BY office_name, office
"""
)

# Per service (line id), the open line with the shortest wait right now, across offices.
WAITS_SERVICES = (
    _LINES
    + """
, best AS (
    SELECT DISTINCT ON (line) line, office, office_name, waiting, wait_low, wait_high
    FROM lines WHERE status = 'open'
    ORDER BY line, wait_high, wait_low, waiting, office
)
SELECT s.line AS id, s.name, b.office, b.office_name, b.waiting, b.wait_low, b.wait_high
FROM (SELECT line, min(name) AS name FROM lines GROUP BY line) s
LEFT JOIN best b USING (line)
ORDER BY s.name, s.line
"""
)

# Tickets issued per hour of each office's day, from the tickets summary (one row per
# ticket, migration 0002): today's rows of each office on the (day, office) index, however
# long the history. Each office's day is its own, hence the LATERAL per office.
LOAD_BY_HOUR = """
SELECT o.id AS office, extract(hour FROM t.issued AT TIME ZONE o.timezone)::int AS hour,
       count(*)::int AS issued
FROM offices o
CROSS JOIN LATERAL (
    SELECT t.issued FROM tickets t
    WHERE t.office = o.id AND t.day = (now() AT TIME ZONE o.timezone)::date
) t
GROUP BY 1, 2 ORDER BY 1, 2
"""

# Counters whose latest opening or closing today is an opening: a few events per office
# and day, on the (office, day, kind) index, per office (its own day).
COUNTERS_OPEN = """
SELECT o.id AS office, count(*) FILTER (WHERE e.kind = 'counter.opened')::int AS open
FROM offices o
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (e.data->>'counter') e.kind FROM events e
    WHERE e.office = o.id AND e.day = (now() AT TIME ZONE o.timezone)::date
      AND e.kind IN ('counter.opened', 'counter.closed')
    ORDER BY e.data->>'counter', e.hlc DESC
) e
GROUP BY o.id
"""

# Every office's lines with a service level: its minutes and the percent to call within them.
TARGETS: LiteralString = """
    SELECT o.id AS office, l->>'id' AS line,
           (l->'service_level'->>'within_minutes')::float AS within_minutes,
           (l->'service_level'->>'percent')::float AS percent
    FROM offices o CROSS JOIN LATERAL jsonb_array_elements(o.lines) l
    WHERE jsonb_typeof(l->'service_level') = 'object'
"""

# Per line with a service level: today's residents called within the target, called
# late, and still waiting past it (those are breaches already, whenever they are called).
# Today's rows of the tickets summary, per office on the (day, office) index.
SERVICE_LEVELS = (
    """
WITH per_ticket AS (
    SELECT o.id AS office, t.line, t.issued, t.called, t.left_at IS NOT NULL AS gone
    FROM offices o
    CROSS JOIN LATERAL (
        SELECT t.line, t.issued, t.called, t.left_at FROM tickets t
        WHERE t.office = o.id AND t.day = (now() AT TIME ZONE o.timezone)::date
    ) t
), targets AS MATERIALIZED (  -- once, not its JSON per ticket
"""
    + TARGETS
    + """
), targeted AS (
    SELECT t.office, t.line, t.within_minutes, t.percent, p.issued, p.called, p.gone
    FROM per_ticket p JOIN targets t USING (office, line)
    WHERE p.issued IS NOT NULL
), counted AS (
SELECT office, line, within_minutes, percent,
       count(*) FILTER (WHERE called <= issued + within_minutes * interval '1 minute')::int
           AS within,
       count(*) FILTER (WHERE called > issued + within_minutes * interval '1 minute')::int
           AS late,
       count(*) FILTER (WHERE called IS NULL AND NOT gone
                        AND now() > issued + within_minutes * interval '1 minute')::int
           AS overdue
FROM targeted GROUP BY office, line, within_minutes, percent
)
SELECT *, round(100.0 * within / nullif(within + late + overdue, 0), 1)::float AS achieved,
       100.0 * within < percent * (within + late + overdue) AS breached
FROM counted ORDER BY office, line
"""
)


class CityReader:
    """Read-only queries over the city database, through a small pool of connections.

    Args:
        url: the city database; never logged.
        stale_seconds: an office silent for longer is shown closed.
    """

    def __init__(self, url: str, *, stale_seconds: float = STALE_SECONDS) -> None:
        self.stale_seconds = stale_seconds
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"autocommit": True},
            name="city",
        )

    def open(self) -> None:
        self.pool.open(wait=False)  # the service starts even while the database is away

    def close(self) -> None:
        self.pool.close()

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        try:
            with (
                self.pool.connection(timeout=POOL_TIMEOUT_S) as conn,
                conn.cursor(row_factory=dict_row) as cursor,
            ):
                return cursor.execute(sql, {"stale": self.stale_seconds}).fetchall()
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreError("The city database cannot be reached right now.") from exc

    def waits(self) -> dict[str, list[dict[str, Any]]]:
        """Every office and line now, and the shortest wait per service."""
        return {"offices": self._rows(WAITS_OFFICES), "services": self._rows(WAITS_SERVICES)}

    def dashboard(self) -> dict[str, list[dict[str, Any]]]:
        """Staff's view: load per hour, counters open, service levels, per office today."""
        return {
            "offices": self._rows(WAITS_OFFICES),
            "load": self._rows(LOAD_BY_HOUR),
            "counters": self._rows(COUNTERS_OPEN),
            "service_levels": self._rows(SERVICE_LEVELS),
        }
