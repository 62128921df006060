"""How honest the wait estimates are: simulated days, estimate shown vs. wait that followed.

    .venv/bin/python benchmarks/bench_estimates.py [--days 8]

For each simulated day (different seeds): tickets, those measured (called the
same day, with a counter open when they were issued), the share whose actual
wait fell inside the range shown (all, and with someone ahead), the median
width of the range with someone ahead, and the mean absolute error of the
point and of the plain formula (ahead × average service ÷ counters serving).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date, timedelta
from pathlib import Path

from nowserving.cli.simulate import simulate_office
from nowserving.domain.config import load_config
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=8)
    args = parser.parse_args()
    config = load_config(sample_config())
    for seed in range(1, args.days + 1):
        day = date(2026, 11, 2) + timedelta(days=seed)
        store = EventStore(Path(tempfile.mkdtemp()) / "day.sqlite")
        result = simulate_office(store, config, day, seed)
        summary = result.accuracy().summary()
        print(f"seed {seed} ({day}): {len(result.estimates)} tickets, {summary}")


if __name__ == "__main__":
    main()
