"""Retention: after `retention_days`, nothing in the log points to a person any more.

Purging strips what could identify someone from old events (the QR token, any
name a config collected, the staff member) and keeps what the reports need,
so aggregates stay exactly as they were. A purged ticket's phone page says it
has expired and shows nothing else. Residents' phone numbers and e-mail
addresses (store/outbox.py, store/appointments.py) go as soon as their day is over.
"""

from __future__ import annotations

from datetime import date, timedelta

from nowserving.domain.config import OfficeConfig
from nowserving.domain.payloads import PERSONAL_KEYS
from nowserving.store import appointments, outbox
from nowserving.store.eventstore import EventStore


def purge(store: EventStore, config: OfficeConfig, today: date) -> int:
    """Strip personal data from events of days before the retention window; returns how many."""
    cutoff = (today - timedelta(days=config.office.retention_days)).isoformat()
    paths = ", ".join(f"'$.{key}'" for key in PERSONAL_KEYS)
    count = 0
    with store.write():
        store.db.conn.execute("PRAGMA secure_delete = ON")  # old bytes zeroed, not just freed
        for table in ("events", "refused"):  # the refusals' audit holds events too
            cursor = store.db.conn.execute(
                f"UPDATE {table} SET staff = NULL, data = json_remove(data, {paths}) "
                "WHERE day IS NOT NULL AND day < ? AND (staff IS NOT NULL OR "
                + " OR ".join(f"json_extract(data, '$.{k}') IS NOT NULL" for k in PERSONAL_KEYS)
                + ")",
                (cutoff,),
            )
            count += cursor.rowcount
        # Residents' contacts go once their day is over; what the outbox kept, past the window.
        count += outbox.purge(store, today.isoformat(), cutoff)
        count += appointments.purge(store, today.isoformat())  # bookings' contacts, likewise
    store.checkpoint()  # no old copies left in the WAL
    return count
