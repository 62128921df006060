"""Appointments among walk-ins: simulated days where 30 % of residents book their time.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_appointments.py [--days 5] [--booked 0.3]

Per day: appointments checked in and called, how late after their slot's start the 90th
percentile was called (goal: within 5 minutes), and the walk-ins' estimate accuracy
(goal: >= 80 % inside the range shown), as docs/estimates.md measures it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date, timedelta
from pathlib import Path

from nowserving.cli.simulate import simulate_office
from nowserving.domain.config import parse_config
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = "\n".join(f'{d} = "08:00-17:30"' for d in WEEK)
BOOKING = f"""
[calendar.hours]
{HOURS}

[booking]
lines = ["permits", "licenses", "records", "payments", "ids"]
slot_minutes = 15
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--booked", type=float, default=0.3)
    args = parser.parse_args()
    config = parse_config(sample_config().read_text(encoding="utf-8") + BOOKING)
    for seed in range(1, args.days + 1):
        day = date(2026, 11, 2) + timedelta(days=seed)
        store = EventStore(Path(tempfile.mkdtemp()) / "day.sqlite")
        result = simulate_office(store, config, day, seed, booked=args.booked)
        delays = result.appointment_delays
        print(
            f"seed {seed} ({day}): {len(delays)} appointments called, p90 "
            f"{_p90(delays):.1f} min after the slot ({_p90(result.appointment_ready_delays):.1f} "
            f"after the slot or checking in, if later); walk-ins: {result.accuracy().summary()}"
        )


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else float("nan")


if __name__ == "__main__":
    main()
