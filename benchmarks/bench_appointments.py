"""Appointments among walk-ins: simulated days where about 30 % of those called had booked.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_appointments.py [--days 5] [--booked 0.36]

`--booked` is the share of residents who try to book the slot of the time they come; a
resident whose slot is full comes as a walk-in, so fewer end up as appointments. The default
0.36 gives a realised share of about 30 % (28-35 % on seeds 1-5), printed per day.

Per day: appointments called and their share of the residents called, how late after their
slot's start the 90th percentile was called, and after when it could first be called (its
slot, or checking in if later: the goal, within 5 minutes), and the walk-ins' estimate
accuracy (goal: >= 80 % inside the range shown, also with someone ahead), as
docs/estimates.md measures it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date, timedelta
from pathlib import Path

from nowserving.cli.simulate import BOOKED_OFFICE, simulate_office
from nowserving.domain.config import parse_config
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--booked", type=float, default=0.36)
    args = parser.parse_args()
    config = parse_config(sample_config().read_text(encoding="utf-8") + BOOKED_OFFICE)
    for seed in range(1, args.days + 1):
        day = date(2026, 11, 2) + timedelta(days=seed)
        store = EventStore(Path(tempfile.mkdtemp()) / "day.sqlite")
        result = simulate_office(store, config, day, seed, booked=args.booked)
        from_slot, from_ready = result.late_p90()
        waits = [e.waited for e in result.estimates if e.waited is not None]
        print(
            f"seed {seed} ({day}): {len(result.appointment_delays)} appointments called "
            f"({result.appointment_share():.0%} of {len(result.appointment_delays) + len(waits)} "
            f"called), p90 {from_ready:.1f} min after the slot or checking in, "
            f"if later ({from_slot:.1f} after the slot); walk-ins waited p90 "
            f"{_p90(waits):.0f} min, at most {max(waits, default=0):.0f}; "
            f"{result.accuracy().summary()}"
        )


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else float("nan")


if __name__ == "__main__":
    main()
