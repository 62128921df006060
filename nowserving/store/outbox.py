"""Residents' contacts and the messages owed to them, in the office's store.

`contacts`: a phone number or e-mail address a resident left for one ticket, kept
only while the ticket lasts. `outbox`: each message, written in the same
transaction as the event that caused it, under an idempotency key, and sent by
the hub's worker. Once a message is sent or given up, its address and text are
blanked: only the masked address stays, for the desk.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from nowserving.domain.notify import Channel, Contact, mask
from nowserving.store.eventstore import EventStore

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
_SALT_KEY = "address_salt"  # the key of the per-address cap's digests (use_address)


@dataclass(frozen=True)
class Message:
    """One message of the outbox, as the worker sends it."""

    key: str
    ticket: str
    channel: Channel
    address: str
    text: str
    tries: int
    masked: str  # what staff may see of the address


def save_contact(store: EventStore, contact: Contact, day: str) -> None:
    """Keep (or replace) a ticket's address on one channel. Inside `write()`."""
    store.db.conn.execute(
        "INSERT INTO contacts (ticket, channel, address, lang, day) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (ticket, channel) DO UPDATE SET address = excluded.address, "
        "lang = excluded.lang",
        (contact.ticket, contact.channel, contact.address, contact.lang, day),
    )


def use_address(store: EventStore, contact: Contact, day: str, cap: int) -> bool:
    """Count `contact`'s ticket against its address's tickets of the day; False (and
    nothing counted) if the address already has `cap` other tickets. Inside `write()`.

    Only a digest keyed by a random secret of this store is kept, and only for the day
    (`purge`), so the table names nobody.
    """
    conn = store.db.conn
    digest = address_digest(store, contact.channel, contact.address)
    others = conn.execute(
        "SELECT COUNT(*) FROM address_uses WHERE day = ? AND digest = ? AND ticket != ?",
        (day, digest, contact.ticket),
    ).fetchone()[0]
    if others >= cap:
        return False
    conn.execute(
        "INSERT OR IGNORE INTO address_uses (day, digest, ticket) VALUES (?, ?, ?)",
        (day, digest, contact.ticket),
    )
    return True


def address_tag(store: EventStore, contact: Contact) -> str:
    """A short tag of `contact`'s address that names nobody. Inside `write()`."""
    return address_digest(store, contact.channel, contact.address)[:12]


def address_digest(store: EventStore, channel: str, address: str) -> str:
    """A digest that names `address` only to this store (keyed by its random secret, made
    on first use). Inside `write()`."""
    store.db.conn.execute(
        "INSERT OR IGNORE INTO sync_state (key, value) VALUES (?, ?)",
        (_SALT_KEY, secrets.token_hex(32)),
    )
    digest = _digest(store, channel, address)
    assert digest is not None
    return digest


def answered(store: EventStore, ticket: str, pattern: str, since: float) -> bool:
    """Whether a message of `ticket` ("" for a number with none) whose key is LIKE
    `pattern` was queued after `since`: how replies by text are bounded."""
    rows = store._read(
        "SELECT 1 FROM outbox WHERE ticket = ? AND key LIKE ? AND created > ? LIMIT 1",
        (ticket, pattern, since),
    )
    return bool(rows)


def address_uses(store: EventStore, channel: str, address: str, day: str) -> int:
    """How many tickets this address was given for on `day`."""
    digest = _digest(store, channel, address)
    if digest is None:
        return 0  # no address was ever counted here
    rows = store._read(
        "SELECT COUNT(*) FROM address_uses WHERE day = ? AND digest = ?", (day, digest)
    )
    return int(rows[0][0])


def _digest(store: EventStore, channel: str, address: str) -> str | None:
    salt = store._read("SELECT value FROM sync_state WHERE key = ?", (_SALT_KEY,))
    if not salt:
        return None
    if channel == "email":  # ana+1@, ana+2@…: one inbox, one count (plus-addressing)
        local, _, domain = address.rpartition("@")
        address = f"{local.partition('+')[0]}@{domain}"
    said = f"{channel}:{address.casefold()}".encode()
    return hmac.new(bytes.fromhex(salt[0][0]), said, hashlib.sha256).hexdigest()


def texts_of_day(store: EventStore, day: str) -> int:
    """How many text messages the outbox took for `day` (sent, waiting or failed)."""
    with store._lock:
        row = store.db.conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE day = ? AND channel = 'sms' "
            f"AND state != '{SKIPPED}'",
            (day,),
        ).fetchone()
    return int(row[0])


def contacts_for(store: EventStore, tickets: Sequence[str]) -> list[Contact]:
    """The contacts of these tickets (inside `write()` it sees that transaction's rows)."""
    if not tickets:
        return []
    marks = ",".join("?" * len(tickets))
    with store._lock:
        rows = store.db.conn.execute(
            f"SELECT ticket, channel, address, lang FROM contacts WHERE ticket IN ({marks})",
            tuple(tickets),
        ).fetchall()
    return [Contact(r[0], cast(Channel, r[1]), r[2], r[3]) for r in rows]


def tickets_of(store: EventStore, channel: str, address: str) -> list[str]:
    """The tickets for which this address was left (a resident's reply names only it)."""
    rows = store._read(
        "SELECT ticket FROM contacts WHERE channel = ? AND address = ?", (channel, address)
    )
    return [str(r[0]) for r in rows]


def forget_contacts(
    store: EventStore,
    tickets: Sequence[str],
    channel: str | None = None,
    *,
    drop_pending: bool = True,
) -> int:
    """Drop the contacts of these tickets (one channel, or all) and, `drop_pending`, their
    unsent messages (a ticket that ended still gets its last one). Inside `write()`."""
    marks = ",".join("?" * len(tickets))
    only = " AND channel = ?" if channel else ""
    params = (*tickets, channel) if channel else tuple(tickets)
    conn = store.db.conn
    if drop_pending:
        conn.execute(
            f"UPDATE outbox SET address = NULL, text = NULL, state = '{SKIPPED}' "
            f"WHERE state = '{PENDING}' AND ticket IN ({marks}){only}",
            params,
        )
    cursor = conn.execute(f"DELETE FROM contacts WHERE ticket IN ({marks}){only}", params)
    return int(cursor.rowcount)


def drop_contact(store: EventStore, ticket: str, channel: str) -> None:
    """A channel's address turned out dead (a push subscription the browser dropped):
    forget it and skip what was still to go there."""
    with store.write():
        forget_contacts(store, [ticket], channel)


def queue(
    store: EventStore,
    rows: Sequence[tuple[str, str, str, str, str, str]],
    now: float,
    *,
    state: str = PENDING,
    due: float | None = None,
) -> int:
    """Add messages (key, ticket, day, channel, address, text), to go at `due` (s; default
    now); a key already there is left as it is, so each message goes out once. Inside
    `write()`."""
    conn = store.db.conn
    before = conn.total_changes
    keep = state == PENDING  # a skipped message keeps no address or text
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, ticket, day, channel, address, masked, text, "
        "created, due, tries, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        [
            (
                key,
                ticket,
                day,
                channel,
                address if keep else None,
                mask(address),
                text if keep else None,
                now,
                now if due is None else due,
                state,
            )
            for key, ticket, day, channel, address, text in rows
        ],
    )
    return conn.total_changes - before


def drop_pending(store: EventStore, ticket: str) -> None:
    """Delete what is still to go about `ticket` (a booking's reminders, when it is cancelled
    or moved: moved back, its time's reminders are queued again). Inside `write()`."""
    store.db.conn.execute(f"DELETE FROM outbox WHERE state = '{PENDING}' AND ticket = ?", (ticket,))


def due(store: EventStore, now: float, channel: str, limit: int = 100) -> list[Message]:
    """Pending messages of a channel whose time has come, oldest first."""
    rows = store._read(
        "SELECT key, ticket, channel, address, text, tries, masked FROM outbox "
        f"WHERE state = '{PENDING}' AND channel = ? AND due <= ? ORDER BY created, key LIMIT ?",
        (channel, now, limit),
    )
    return [Message(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6]) for r in rows]


def mark_sent(store: EventStore, key: str) -> None:
    with store.write():
        store.db.conn.execute(
            f"UPDATE outbox SET state = '{SENT}', address = NULL, text = NULL, error = NULL, "
            "tries = tries + 1 WHERE key = ?",
            (key,),
        )


def mark_failed_try(
    store: EventStore, key: str, error: str, due_at: float, *, give_up: bool
) -> None:
    """One more failed try; `give_up`: the message is marked failed for good."""
    with store.write():
        if give_up:
            store.db.conn.execute(
                f"UPDATE outbox SET state = '{FAILED}', address = NULL, text = NULL, "
                "tries = tries + 1, error = ? WHERE key = ?",
                (error[:200], key),
            )
        else:
            store.db.conn.execute(
                "UPDATE outbox SET tries = tries + 1, error = ?, due = ? WHERE key = ?",
                (error[:200], due_at, key),
            )


def failed(store: EventStore, day: str) -> list[tuple[str, str, str, str]]:
    """The day's messages given up: (ticket, channel, masked address, error)."""
    rows = store._read(
        f"SELECT ticket, channel, masked, error FROM outbox WHERE state = '{FAILED}' AND day = ? "
        "ORDER BY created",
        (day,),
    )
    return [(r[0], r[1], r[2], r[3] or "") for r in rows]


def purge(store: EventStore, today: str, cutoff: str) -> int:
    """Drop the contacts and unsent messages of days before `today` (those tickets have
    ended), and every outbox row of days before `cutoff`. Inside `write()`."""
    conn = store.db.conn
    count = conn.execute("DELETE FROM contacts WHERE day < ?", (today,)).rowcount
    count += conn.execute("DELETE FROM address_uses WHERE day < ?", (today,)).rowcount
    count += conn.execute(
        f"DELETE FROM outbox WHERE day < ? AND (state = '{PENDING}' OR day < ?)", (today, cutoff)
    ).rowcount
    return int(count)
