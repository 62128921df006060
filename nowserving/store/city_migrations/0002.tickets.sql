-- One row per ticket, kept by a trigger on `events` in the same transaction as the
-- events: the dashboard and the reports read a day's tickets, not its events, so they
-- answer in the same time whatever the history. The trigger fires only for events
-- actually inserted (a replayed batch's `ON CONFLICT DO NOTHING` rows fire nothing),
-- so a batch sent twice adds nothing; and every column merges in any order (least,
-- greatest, the latest by clock), so events arriving out of order give the same row.

LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;  -- no insert between the backfill and the trigger

CREATE TABLE tickets (
    office text NOT NULL REFERENCES offices (id),
    ticket text NOT NULL,
    day date,                 -- the day it was issued (NULL until its issue arrives)
    line text,                -- the line it was issued to
    issued timestamptz,
    remote boolean,           -- issued from a phone (source "remote")
    called timestamptz,       -- its first call
    last_called timestamptz,
    counter text,             -- the counter of its last call
    served timestamptz,
    staff text,               -- who served it: NULL unless the office streams staff ids
    left_at timestamptz,      -- it left the line
    transfers integer NOT NULL DEFAULT 0,
    last_kind text,           -- its latest served/no_show/left/returned/called, by clock
    last_hlc text,
    PRIMARY KEY (office, ticket)
);
-- Both columns as index conditions: an office's day (the dashboard, per office) and a
-- period of days across offices (the reports). An index on the day alone would lead the
-- planner to read every office's day once per office.
CREATE INDEX tickets_day_office ON tickets (day, office);

INSERT INTO tickets
SELECT office, ticket,
       min(day) FILTER (WHERE kind = 'ticket.issued'),
       min(line) FILTER (WHERE kind = 'ticket.issued'),
       min(at) FILTER (WHERE kind = 'ticket.issued'),
       bool_or(data->>'source' = 'remote') FILTER (WHERE kind = 'ticket.issued'),
       min(at) FILTER (WHERE kind = 'ticket.called'),
       max(at) FILTER (WHERE kind = 'ticket.called'),
       (array_agg(data->>'counter' ORDER BY at DESC) FILTER (WHERE kind = 'ticket.called'))[1],
       max(at) FILTER (WHERE kind = 'ticket.served'),
       (array_agg(staff ORDER BY at DESC) FILTER (WHERE kind = 'ticket.served'))[1],
       max(at) FILTER (WHERE kind = 'ticket.left'),
       count(*) FILTER (WHERE kind = 'ticket.transferred'),
       (array_agg(kind ORDER BY hlc DESC) FILTER (WHERE kind IN ('ticket.served',
           'ticket.no_show', 'ticket.left', 'ticket.returned', 'ticket.called')))[1],
       max(hlc) FILTER (WHERE kind IN ('ticket.served', 'ticket.no_show', 'ticket.left',
           'ticket.returned', 'ticket.called'))
FROM events WHERE ticket IS NOT NULL GROUP BY office, ticket;

CREATE FUNCTION tickets_add_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    issued boolean := NEW.kind = 'ticket.issued';
    called boolean := NEW.kind = 'ticket.called';
    served boolean := NEW.kind = 'ticket.served';
    ending boolean := NEW.kind IN ('ticket.served', 'ticket.no_show', 'ticket.left',
                                   'ticket.returned', 'ticket.called');
BEGIN
    IF NEW.ticket IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO tickets AS t (office, ticket, day, line, issued, remote, called, last_called,
                              counter, served, staff, left_at, transfers, last_kind, last_hlc)
    VALUES (NEW.office, NEW.ticket,
            CASE WHEN issued THEN NEW.day END,
            CASE WHEN issued THEN NEW.line END,
            CASE WHEN issued THEN NEW.at END,
            CASE WHEN issued THEN NEW.data->>'source' = 'remote' END,
            CASE WHEN called THEN NEW.at END,
            CASE WHEN called THEN NEW.at END,
            CASE WHEN called THEN NEW.data->>'counter' END,
            CASE WHEN served THEN NEW.at END,
            CASE WHEN served THEN NEW.staff END,
            CASE WHEN NEW.kind = 'ticket.left' THEN NEW.at END,
            (NEW.kind = 'ticket.transferred')::int,
            CASE WHEN ending THEN NEW.kind END,
            CASE WHEN ending THEN NEW.hlc END)
    ON CONFLICT (office, ticket) DO UPDATE SET
        day = coalesce(t.day, excluded.day),
        line = coalesce(t.line, excluded.line),
        issued = least(t.issued, excluded.issued),
        remote = coalesce(t.remote, excluded.remote),
        called = least(t.called, excluded.called),
        last_called = greatest(t.last_called, excluded.last_called),
        counter = CASE WHEN excluded.last_called >= t.last_called OR t.last_called IS NULL
                       THEN coalesce(excluded.counter, t.counter) ELSE t.counter END,
        served = greatest(t.served, excluded.served),
        staff = CASE WHEN excluded.served >= t.served OR t.served IS NULL
                     THEN coalesce(excluded.staff, t.staff) ELSE t.staff END,
        left_at = greatest(t.left_at, excluded.left_at),
        transfers = t.transfers + excluded.transfers,
        last_kind = CASE WHEN excluded.last_hlc > t.last_hlc OR t.last_hlc IS NULL
                         THEN coalesce(excluded.last_kind, t.last_kind) ELSE t.last_kind END,
        last_hlc = greatest(t.last_hlc, excluded.last_hlc);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_tickets AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION tickets_add_event();
