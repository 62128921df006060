"""The event store: an append-only log in one SQLite file (WAL), via sqlite-utils.

Several processes on one machine (hub, kiosk, display, desk) share a file
safely: every read-then-write runs inside `write()`, which takes SQLite's write
lock up front (BEGIN IMMEDIATE) and waits for it (busy_timeout). sqlite-utils'
own `atomic()` starts a deferred transaction, which loses writes between
processes, so it is not used here.

Faults of the environment become `StoreError`s with a plain message; the file
is never rewritten to "fix" it.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nowserving.domain.clock import HybridClock
from nowserving.domain.errors import StoreError, StoreFullError
from nowserving.domain.events import Draft, Event, Kind
from nowserving.system.files import touch_private


def _import_sqlite_utils() -> None:
    """Import sqlite-utils without numpy and pandas.

    It imports them, if installed, only to store their types, which this store never
    does; numpy alone (matplotlib installs it) was a tenth of the hub's start-up time.
    Whoever needs them later imports them as usual.
    """
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in blocked:
            del sys.modules[name]


_import_sqlite_utils()
import sqlite_utils  # noqa: E402

APPLICATION_ID = 0x4E6F5753  # "NoWS": marks a file as a Nowserving store
# Numbers below LEASE_BASE are handed out one by one by the hub; from LEASE_BASE up, in
# blocks leased to kiosks for when they are cut off (and, past that, the hub's overflow).
# A ticket numbered 500 or more was issued by a kiosk while the hub was out of reach.
LEASE_BASE = 500
BUSY_TIMEOUT_MS = 10_000
# peek() runs on the hub's event loop: a WAL reader is kept waiting only by a crash's
# recovery, and then the request had better fail (503) than stall every other one.
PEEK_TIMEOUT_MS = 1_000
_COLUMNS = "id, device, seq, hlc, kind, day, ticket, line, staff, data"


def _create_events(db: sqlite_utils.Database) -> None:
    db.table("events").create(
        {
            "rowid": int,  # local arrival order: readers resume from the last rowid seen
            "id": str,
            "device": str,
            "seq": int,
            "hlc": str,
            "kind": str,
            "day": str,
            "ticket": str,
            "line": str,
            "staff": str,
            "data": str,
        },
        pk="rowid",
        not_null={"id", "device", "seq", "hlc", "kind", "data"},
    )
    db.table("events").create_index(["id"], unique=True)
    db.table("events").create_index(["device", "seq"], unique=True)
    db.table("events").create_index(["hlc"])
    db.table("events").create_index(["day", "hlc"])
    db.table("events").create_index(["ticket"])


def _create_numbers(db: sqlite_utils.Database) -> None:
    db.table("numbers").create(
        {"day": str, "line": str, "next": int}, pk=("day", "line"), not_null={"next"}
    )


def _add_sync(db: sqlite_utils.Database) -> None:
    # numbers.high: the next number above LEASE_BASE, shared by leases and overflow.
    db.execute(f"ALTER TABLE numbers ADD COLUMN high INTEGER NOT NULL DEFAULT {LEASE_BASE}")
    db.table("leases").create(
        {"day": str, "line": str, "start": int, "end": int, "next": int},
        pk=("day", "line", "start"),
        not_null={"end", "next"},
    )
    db.table("sync_state").create({"key": str, "value": str}, pk="key")


def _add_trust(db: sqlite_utils.Database) -> None:
    # granted: on the hub, which device got which block of numbers (pushed tickets must
    # come from the pushing kiosk's own blocks).
    db.table("granted").create(
        {"device": str, "day": str, "line": str, "start": int, "end": int},
        pk=("day", "line", "start"),
        not_null={"device", "end"},
    )
    db.table("granted").create_index(["device", "day", "line"])
    # Is this number of a line taken today? Asked for every ticket a kiosk pushes.
    db.execute(
        "CREATE INDEX events_issued_number ON events (day, line, json_extract(data, '$.number')) "
        "WHERE kind = 'ticket.issued'"
    )
    # refused: on the hub, the audit of pushed events it did not take; on a replica, its
    # own events the hub refused (left out of its projection). Never part of the log.
    columns: dict[str, type] = {name: str for name in _COLUMNS.split(", ")}
    db.table("refused").create(
        columns | {"seq": int, "reason": str},
        pk="id",
        not_null={"device", "seq", "hlc", "kind", "data", "reason"},
    )
    db.table("refused").create_index(["device", "seq"])


def _add_requests(db: sqlite_utils.Database) -> None:
    # A write request's id (client-chosen, per device) and the events it caused: a retry
    # of the same request gets the first answer instead of acting twice.
    db.table("requests").create(
        {"device": str, "key": str, "day": str, "events": str},
        pk=("device", "key"),
        not_null={"day", "events"},
    )


def _add_sessions(db: sqlite_utils.Database) -> None:
    # Staff sessions on the hub, by the sha256 of their token (the token itself is never
    # stored): they survive a restart, and a copy of the file signs nobody in.
    db.table("sessions").create(
        {"hash": str, "staff": str, "device": str, "expires": float},
        pk="hash",
        not_null={"staff", "device", "expires"},
    )


def _add_registry(db: sqlite_utils.Database) -> None:
    # On the hub: the office's devices (each secret kept as a hash; revoked ones stay, so a
    # revoked secret is told apart from an unknown one) and one-time pairing codes.
    db.table("devices").create(
        {
            "id": str,
            "role": str,
            "secret_hash": str,
            "lines": str,
            "counters": str,
            "paired_at": int,
            "revoked_at": int,
        },
        pk="id",
        not_null={"role", "secret_hash", "lines", "counters", "paired_at"},
    )
    db.table("devices").create_index(["secret_hash"], unique=True)
    db.table("pairing").create(
        {"code_hash": str, "role": str, "device": str, "expires_at": int, "used_at": int},
        pk="code_hash",
        not_null={"role", "device", "expires_at"},
    )


def _add_notify(db: sqlite_utils.Database) -> None:
    # Residents' contacts and the messages owed them (store/outbox.py): never in the log.
    db.table("contacts").create(
        {"ticket": str, "channel": str, "address": str, "lang": str, "day": str},
        pk=("ticket", "channel"),
        not_null={"address", "lang", "day"},
    )
    db.table("contacts").create_index(["day"])
    db.table("outbox").create(
        {
            "key": str,  # ticket:kind:event:channel, domain.notify.Notice.key
            "ticket": str,
            "day": str,
            "channel": str,
            "address": str,  # NULL once sent or given up
            "masked": str,
            "text": str,  # NULL once sent or given up
            "created": float,  # Unix seconds
            "due": float,  # not tried again before this
            "tries": int,
            "state": str,  # pending, sent, failed, skipped
            "error": str,
        },
        pk="key",
        not_null={"ticket", "day", "channel", "masked", "created", "due", "tries", "state"},
    )
    db.table("outbox").create_index(["state", "due"])
    db.table("outbox").create_index(["ticket"])


def _add_address_uses(db: sqlite_utils.Database) -> None:
    # Which tickets a phone number or address was given for today (a keyed digest of it,
    # never the address): the per-address daily cap outlives the contacts themselves.
    db.table("address_uses").create(
        {"day": str, "digest": str, "ticket": str}, pk=("day", "digest", "ticket")
    )


def _add_appointments(db: sqlite_utils.Database) -> None:
    # Residents' bookings, on the hub only (store/appointments.py): a table, not events,
    # because they hold a phone number or e-mail address that must not travel to every
    # device's replica nor stay in the append-only log, and "one more in this slot?" is
    # one indexed count under the write lock.
    db.table("appointments").create(
        {
            "code": str,  # the check-in code
            "token_hash": str,  # sha256 of the link's token (domain.booking.token_hash)
            "line": str,
            "day": str,  # office-local date of the slot (staff list a day's)
            "start": int,  # ms
            "end": int,
            "contact": str,  # phone or e-mail (domain.booking.contact_key)
            "client": str,  # the address it was booked from (per-address cap)
            "lang": str,
            "created": int,  # ms
            "status": str,  # booked, cancelled
        },
        pk="code",
        not_null={"token_hash", "line", "day", "start", "end", "contact", "created", "status"},
    )
    db.table("appointments").create_index(["token_hash"], unique=True)
    db.table("appointments").create_index(["line", "start"])
    db.table("appointments").create_index(["contact"])
    db.table("appointments").create_index(["day", "start"])
    db.table("appointments").create_index(["client", "created"])


def _add_booked_by(db: sqlite_utils.Database) -> None:
    # The staff member who booked for a resident (on the phone, at the desk); "" when the
    # resident booked on `/book`.
    db.table("appointments").add_column("booked_by", str, not_null_default="")


def _add_check_in(db: sqlite_utils.Database) -> None:
    # The token of the ticket a booking checked in for (store/appointments.py): a booking
    # checks in once, and checking in again finds the same ticket.
    db.execute("ALTER TABLE appointments ADD COLUMN ticket TEXT NOT NULL DEFAULT ''")


# Migrations run in order, each in the same transaction as raising user_version.
# Never edit or reorder one that has shipped: append a new one.
MIGRATIONS: Sequence[Callable[[sqlite_utils.Database], None]] = (
    _create_events,
    _create_numbers,
    _add_sync,
    _add_trust,
    _add_requests,
    _add_sessions,
    _add_registry,
    _add_notify,
    _add_address_uses,
    _add_appointments,
    _add_booked_by,
    _add_check_in,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "full" in message:
        return StoreFullError(
            f"The disk holding {path} is full: nothing was saved. Free some space and retry."
        )
    if "locked" in message or "busy" in message:
        return StoreError(f"{path} stayed busy for {BUSY_TIMEOUT_MS // 1000} s: {message}.")
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return StoreError(
            f"{path} is damaged or is not a Nowserving store ({message}). It was left as it is; "
            "restore a backup, or move it aside to start a new store."
        )
    return StoreError(f"{path}: {message}")


class EventStore:
    """The append-only log of one node, plus its ticket-number counters.

    Args:
        path: the SQLite file (created if missing, with its folder).
        max_pages: a size limit in pages, for tests of a full disk.
    """

    def __init__(self, path: Path | str, *, max_pages: int | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._own_writes = 0
        self._peeker: sqlite3.Connection | None = None  # see peek()
        self._peek_lock = threading.Lock()
        try:
            touch_private(self.path)  # tickets and their tokens: 0600 in a 0700 folder
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the store {self.path}: {exc}") from None
        self.db = sqlite_utils.Database(conn)
        try:
            self._configure(max_pages)
            self._migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise _translate(exc, self.path) from None
        except StoreError:
            conn.close()
            raise

    def _configure(self, max_pages: int | None) -> None:
        conn = self.db.conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed ticket survives a power cut, so the receipt never lies.
        conn.execute("PRAGMA synchronous = FULL")
        if max_pages is not None:
            conn.execute(f"PRAGMA max_page_count = {int(max_pages)}")

    def _migrate(self) -> None:
        conn = self.db.conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and self.db.table_names()):
            raise StoreError(
                f"{self.path} is an SQLite file of another program; it was left untouched."
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer Nowserving (schema {version}, this one "
                f"knows {SCHEMA_VERSION}). Update Nowserving on this PC; the file was left as is."
            )
        for number in range(version, SCHEMA_VERSION):
            with self.write():
                MIGRATIONS[number](self.db)
                conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()
        with self._peek_lock:
            if self._peeker is not None:
                self._peeker.close()

    @contextmanager
    def write(self) -> Iterator[None]:
        """One transaction holding the write lock from its start (BEGIN IMMEDIATE)."""
        with self._lock:
            conn = self.db.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from None
            try:
                yield
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from None
                raise

    def checkpoint(self) -> bool:
        """Copy the WAL into the file and truncate it; False if readers kept part of it.

        Under the store's lock like every other use of the shared connection: run
        beside a request's statement, it failed with "database table is locked".
        """
        rows = self._read("PRAGMA wal_checkpoint(TRUNCATE)")
        return not rows[0][0]

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one query, under the store's lock (for the hub's registry)."""
        return self._read(sql, params)

    def peek(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one short query (a lookup by key), on a read-only connection of its own.

        In WAL a reader never waits for a writer: the hub's event loop asks here who a
        bearer token belongs to, without a hop to a worker thread (0.2-0.5 ms) and without
        waiting behind a commit that holds the store's lock. It sees every committed change
        (a device revoked by another process too); never for anything that writes.
        """
        with self._peek_lock:
            try:
                if self._peeker is None:
                    self._peeker = sqlite3.connect(
                        f"{self.path.resolve().as_uri()}?mode=ro",
                        uri=True,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                    self._peeker.execute(f"PRAGMA busy_timeout = {PEEK_TIMEOUT_MS}")
                return self._peeker.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self.db.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from None

    # -- writing (call inside write()) -------------------------------------------------

    def append(self, drafts: Sequence[Draft], clock: HybridClock) -> list[Event]:
        """Stamp and append this device's new events; call inside `write()`."""
        conn = self.db.conn
        top = conn.execute("SELECT max(hlc) FROM events").fetchone()[0]
        if top:
            clock.observe(top)  # after every event in the file, whoever wrote it
        seq = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM events WHERE device = ?", (clock.device,)
        ).fetchone()[0]
        events = [
            draft.stamped(clock.device, seq + n, clock.tick())
            for n, draft in enumerate(drafts, start=1)
        ]
        self._insert(events)
        return events

    def merge(self, events: Sequence[Event]) -> int:
        """Add events from other nodes, skipping those already here; call inside `write()`."""
        return self._insert(events, ignore=True)

    def _insert(self, events: Sequence[Event], *, ignore: bool = False) -> int:
        verb = "INSERT OR IGNORE" if ignore else "INSERT"
        rows = [tuple(e.to_row().values()) for e in events]
        before = self.db.conn.total_changes
        self.db.conn.executemany(
            f"{verb} INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        self._own_writes += 1
        return self.db.conn.total_changes - before

    def _counters(self, day: str, line: str) -> tuple[int, int]:
        """(next low number, next high number) of a line for a day."""
        conn = self.db.conn
        row = conn.execute(
            "SELECT next, high FROM numbers WHERE day = ? AND line = ?", (day, line)
        ).fetchone()
        if row is not None:
            return int(row[0]), int(row[1])
        # First of the day, or counters lost: never reuse a logged number.
        low, high = conn.execute(
            "SELECT max(CASE WHEN n < ? THEN n END), max(n) FROM (SELECT "
            "json_extract(data, '$.number') AS n FROM events "
            "WHERE day = ? AND line = ? AND kind = 'ticket.issued')",
            (LEASE_BASE, day, line),
        ).fetchone()
        leased = conn.execute(
            "SELECT max(end) FROM leases WHERE day = ? AND line = ?", (day, line)
        ).fetchone()[0]
        return (low or 0) + 1, max(LEASE_BASE, (high or 0) + 1, leased or 0)

    def _save_counters(self, day: str, line: str, low: int, high: int) -> None:
        self.db.conn.execute(
            "INSERT INTO numbers (day, line, next, high) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (day, line) DO UPDATE SET next = excluded.next, high = excluded.high",
            (day, line, low, high),
        )

    def next_number(self, day: str, line: str) -> int:
        """Take the next ticket number of a line for a day; call inside `write()`."""
        low, high = self._counters(day, line)
        if low < LEASE_BASE:
            self._save_counters(day, line, low + 1, high)
            return low
        self._save_counters(day, line, low, high + 1)
        return high

    def lease_numbers(self, day: str, line: str, count: int, device: str) -> tuple[int, int]:
        """Reserve `count` numbers for a kiosk's offline use: [start, end). Inside `write()`.

        The hub records which device got the block: only that device may issue from it.
        """
        low, high = self._counters(day, line)
        self._save_counters(day, line, low, high + count)
        self.db.conn.execute(
            "INSERT INTO granted (device, day, line, start, end) VALUES (?, ?, ?, ?, ?)",
            (device, day, line, high, high + count),
        )
        return high, high + count

    def lease_usage(self, device: str, day: str, line: str) -> tuple[int, int]:
        """(numbers leased to `device` for a line and day, how many of them it has used)."""
        leased, used = self._read(
            "SELECT coalesce(sum(g.end - g.start), 0), (SELECT count(*) FROM events e JOIN "
            "granted h ON h.device = ? AND h.day = e.day AND h.line = e.line "
            "AND json_extract(e.data, '$.number') >= h.start "
            "AND json_extract(e.data, '$.number') < h.end "
            "WHERE e.day = ? AND e.line = ? AND e.kind = 'ticket.issued') "
            "FROM granted g WHERE g.device = ? AND g.day = ? AND g.line = ?",
            (device, day, line, device, day, line),
        )[0]
        return int(leased), int(used)

    def leased_to(self, device: str, day: str, line: str, number: int) -> bool:
        """Whether `number` of a line and day lies in a block leased to `device`."""
        return bool(
            self._read(
                "SELECT 1 FROM granted WHERE device = ? AND day = ? AND line = ? "
                "AND start <= ? AND ? < end LIMIT 1",
                (device, day, line, number, number),
            )
        )

    def number_taken(self, day: str, line: str, number: int) -> bool:
        """Whether a ticket of a line and day already has `number`."""
        return bool(
            self._read(
                "SELECT 1 FROM events WHERE day = ? AND line = ? AND kind = 'ticket.issued' "
                "AND json_extract(data, '$.number') = ? LIMIT 1",
                (day, line, number),
            )
        )

    def signed_in(self, desk: str, staff: str, day: str, before_hlc: str) -> bool:
        """Whether `staff`'s latest sign-in or -out at `desk` on `day` before the stamp
        `before_hlc` is a sign-in: written by the desk (any of its replicas), or by the hub
        for a session at that desk (naming it; a desk cannot name another one)."""
        rows = self._read(
            "SELECT kind FROM events WHERE day = ? AND hlc < ? AND staff = ? "
            "AND kind IN ('staff.signed_in', 'staff.signed_out') AND (device = ? "
            "OR substr(device, 1, ?) = ? OR json_extract(data, '$.desk') = ?) "
            "ORDER BY hlc DESC LIMIT 1",
            (day, before_hlc, staff, desk, len(desk) + 1, f"{desk}~", desk),
        )
        return bool(rows) and rows[0][0] == "staff.signed_in"

    def keep_refused(self, refusals: Sequence[tuple[Event, str]], *, own: bool = False) -> None:
        """Record events the hub refused (its audit), or, `own`, this replica's own events
        that the hub refused (hidden from the projection from now on). Inside `write()`."""
        self.db.conn.executemany(
            f"INSERT OR IGNORE INTO refused ({_COLUMNS}, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*event.to_row().values(), reason) for event, reason in refusals],
        )
        if own and refusals:
            self.db.conn.execute(
                "INSERT INTO sync_state (key, value) VALUES ('hidden', ?) ON CONFLICT (key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                (len(refusals),),
            )
        self._own_writes += 1

    def holds(self, event_id: str) -> bool:
        """Whether an event is here already, in the log or refused."""
        return bool(
            self._read(
                "SELECT 1 FROM events WHERE id = ? UNION ALL SELECT 1 FROM refused WHERE id = ?",
                (event_id, event_id),
            )
        )

    def hidden(self) -> int:
        """How many of this replica's own events the hub refused: their projection changes."""
        return int(self.get_state("hidden", "0"))

    def add_lease(self, day: str, line: str, start: int, end: int) -> None:
        """Keep a block leased from the hub (on the kiosk's replica). Inside `write()`."""
        self.db.conn.execute(
            "INSERT OR IGNORE INTO leases (day, line, start, end, next) VALUES (?, ?, ?, ?, ?)",
            (day, line, start, end, start),
        )

    def next_leased_number(self, day: str, line: str) -> int | None:
        """Take a number from this node's leases, or None when none is left. Inside `write()`."""
        conn = self.db.conn
        row = conn.execute(
            "SELECT start, next FROM leases WHERE day = ? AND line = ? AND next < end "
            "ORDER BY start LIMIT 1",
            (day, line),
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE leases SET next = next + 1 WHERE day = ? AND line = ? AND start = ?",
            (day, line, row[0]),
        )
        return int(row[1])

    def leased_left(self, day: str, line: str) -> int:
        rows = self._read(
            "SELECT coalesce(sum(end - next), 0) FROM leases WHERE day = ? AND line = ?",
            (day, line),
        )
        return int(rows[0][0])

    def request_events(self, device: str, key: str) -> list[Event] | None:
        """The events an earlier request with this id caused (maybe none), or None if new."""
        rows = self._read("SELECT events FROM requests WHERE device = ? AND key = ?", (device, key))
        if not rows:
            return None
        ids: list[str] = json.loads(rows[0][0])
        found = {
            row[0]: _event(row)
            for row in self._read(
                f"SELECT {_COLUMNS} FROM events WHERE id IN ({', '.join('?' * len(ids))})", ids
            )
        }
        return [found[i] for i in ids if i in found]

    def remember_request(self, device: str, key: str, day: str, events: Sequence[Event]) -> None:
        """Keep a request's id with the events it caused; call inside `write()`."""
        self.db.conn.execute(
            "INSERT INTO requests (device, key, day, events) VALUES (?, ?, ?, ?)",
            (device, key, day, json.dumps([e.id for e in events])),
        )

    def forget_requests(self, before_day: str) -> int:
        """Drop request ids of days before `before_day` (a retry comes within the day)."""
        with self.write():
            cursor = self.db.conn.execute("DELETE FROM requests WHERE day < ?", (before_day,))
            return int(cursor.rowcount)

    def get_state(self, key: str, default: str = "") -> str:
        rows = self._read("SELECT value FROM sync_state WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else default

    def set_state(self, key: str, value: str) -> None:
        """Remember a sync cursor or the like (its own small transaction)."""
        with self.write():
            self.db.conn.execute(
                "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def add_session(self, digest: str, staff: str, device: str, expires: float) -> None:
        """Keep a staff session by its token's hash, until `expires` (Unix seconds)."""
        with self.write():
            self.db.conn.execute(
                "INSERT OR REPLACE INTO sessions (hash, staff, device, expires) "
                "VALUES (?, ?, ?, ?)",
                (digest, staff, device, expires),
            )

    def session(self, digest: str, *, quick: bool = False) -> tuple[str, str, float] | None:
        """(staff, device, expires) of the session with this token hash, if any (`quick`:
        read with `peek`, for the event loop)."""
        read = self.peek if quick else self._read
        rows = read("SELECT staff, device, expires FROM sessions WHERE hash = ?", (digest,))
        return (str(rows[0][0]), str(rows[0][1]), float(rows[0][2])) if rows else None

    def end_sessions(
        self, *, digest: str | None = None, before: float | None = None, staff: Sequence[str] = ()
    ) -> int:
        """End one session (by hash), those expired `before`, and every one of `staff`."""
        marks = ",".join("?" * len(staff))
        with self.write():
            cursor = self.db.conn.execute(
                f"DELETE FROM sessions WHERE hash = ? OR expires <= ? OR staff IN ({marks})",
                (digest, before, *staff),
            )
        return cursor.rowcount

    def own_events_after(self, device: str, seq: int, limit: int = 500) -> list[Event]:
        """This device's events after `seq`, in order: what still has to be pushed."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM events WHERE device = ? AND seq > ? ORDER BY seq LIMIT ?",
            (device, seq, limit),
        )
        return [_event(row) for row in rows]

    def contiguous_seq(self, device: str) -> int:
        """The n such that this device's events 1..n are all held here, taken into the log
        or refused (0 if its first is missing)."""
        refused = {
            int(r[0]) for r in self._read("SELECT seq FROM refused WHERE device = ?", (device,))
        }
        held = 0
        while True:  # one round per refused event at most, plus one per run of taken ones
            if held + 1 in refused:
                held += 1
                continue
            rows = self._read(
                "SELECT min(e.seq) FROM events e WHERE e.device = ? AND e.seq > ? AND "
                "EXISTS (SELECT 1 FROM events s WHERE s.device = ? AND s.seq = ?) AND NOT EXISTS "
                "(SELECT 1 FROM events f WHERE f.device = e.device AND f.seq = e.seq + 1)",
                (device, held, device, held + 1),
            )
            end = rows[0][0]
            if end is None:
                return held
            held = int(end)

    def max_seq(self, device: str) -> int:
        rows = self._read("SELECT coalesce(max(seq), 0) FROM events WHERE device = ?", (device,))
        return int(rows[0][0])

    def integrity(self) -> str:
        return str(self._read("PRAGMA integrity_check")[0][0])

    # -- reading -----------------------------------------------------------------------

    def version(self) -> tuple[int, int]:
        """Changes whenever anyone may have added events: a cheap "anything new?" poll.

        SQLite's data_version moves only for other connections' commits; this
        connection's own writes are counted here.
        """
        return int(self._read("PRAGMA data_version")[0][0]), self._own_writes

    def last_rowid(self) -> int:
        return int(self._read("SELECT coalesce(max(rowid), 0) FROM events")[0][0])

    def events_after(self, rowid: int, limit: int = 10_000) -> list[tuple[int, Event]]:
        """Events that arrived here after `rowid`, in arrival order."""
        rows = self._read(
            f"SELECT rowid, {_COLUMNS} FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (rowid, limit),
        )
        return [(row[0], _event(row[1:])) for row in rows]

    def events_for_day(self, day: str, up_to: int | None = None) -> list[Event]:
        """The day's events and all lasting ones, in clock order: what a day's state needs."""
        # Without this replica's own events the hub refused: the office never accepted them.
        rows = self._read(
            f"SELECT {_COLUMNS} FROM events WHERE (day = ? OR day IS NULL) AND rowid <= ? "
            "AND id NOT IN (SELECT id FROM refused) ORDER BY hlc",
            (day, up_to if up_to is not None else 2**62),
        )
        return [_event(row) for row in rows]

    def ticket_day(self, ticket: str) -> str | None:
        """The day a ticket was issued, if it is in the log at all."""
        rows = self._read(
            "SELECT day FROM events WHERE ticket = ? AND kind = 'ticket.issued' LIMIT 1", (ticket,)
        )
        return str(rows[0][0]) if rows else None

    def count(self) -> int:
        return int(self._read("SELECT count(*) FROM events")[0][0])


def _event(row: Sequence[Any]) -> Event:
    # Field by field, not through a dict: a restart decodes every event of the day.
    kind, data = _KINDS[row[4]], json.loads(row[9])
    return Event(row[0], row[1], row[2], row[3], kind, row[5], row[6], row[7], row[8], data)


_KINDS: dict[str, Kind] = {kind.value: kind for kind in Kind}
