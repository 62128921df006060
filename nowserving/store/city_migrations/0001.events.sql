-- The city's copy of every office's event log, in the anonymised form (store/city.py).

CREATE TABLE offices (
    id text PRIMARY KEY,
    name text NOT NULL,
    timezone text NOT NULL,
    lines jsonb NOT NULL,     -- [{id, name, prefix, service_level}]: names in its first language
    counters jsonb NOT NULL,  -- [{id, name, lines}]
    seen_at timestamptz NOT NULL  -- the office's last report: stale means closed or cut off
);

CREATE TABLE events (
    office text NOT NULL REFERENCES offices (id),
    id text NOT NULL,
    position bigint NOT NULL,  -- arrival order in the office's own log (its rowid)
    device text NOT NULL,
    seq bigint NOT NULL,
    hlc text NOT NULL,
    at timestamptz NOT NULL,  -- the event's clock time
    kind text NOT NULL,
    day date,
    ticket text,
    line text,
    staff text,  -- NULL unless the office streams staff ids ([city] staff_names)
    data jsonb NOT NULL,
    received timestamptz NOT NULL DEFAULT clock_timestamp(),  -- its lag: received - at
    PRIMARY KEY (office, id)
);
CREATE INDEX events_office_day ON events (office, day, kind);
CREATE INDEX events_ticket ON events (office, ticket, hlc);
CREATE INDEX events_day ON events (day, kind);

-- Each line as the office itself sees it now (its own projection), replaced every round.
CREATE TABLE lines_now (
    office text NOT NULL REFERENCES offices (id),
    line text NOT NULL,
    waiting integer NOT NULL,
    wait_low integer,   -- minutes; NULL when no counter serves the line
    wait_high integer,
    paused boolean NOT NULL,
    counters_open integer NOT NULL,
    PRIMARY KEY (office, line)
);
