"""How honest the wait estimates are: simulated days, estimate shown vs. wait that followed.

    .venv/bin/python benchmarks/bench_estimates.py [--days 8]

For each simulated day (different seeds): tickets, those measured (called the
same day, with a counter open when they were issued), the share whose actual
wait fell inside the range shown, and the mean absolute error of the centre.
"""

from __future__ import annotations

import argparse
import statistics
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
    coverages, errors = [], []
    for seed in range(1, args.days + 1):
        day = date(2026, 11, 2) + timedelta(days=seed)
        store = EventStore(Path(tempfile.mkdtemp()) / "day.sqlite")
        result = simulate_office(store, config, day, seed)
        coverages.append(result.coverage)
        errors.append(result.mean_absolute_error)
        print(
            f"seed {seed}: {len(result.estimates)} tickets, {len(result.measured())} measured, "
            f"inside the range {result.coverage:.0%}, "
            f"mean absolute error {result.mean_absolute_error:.1f} min"
        )
    print(
        f"all days: inside the range {statistics.fmean(coverages):.0%} "
        f"(worst day {min(coverages):.0%}), "
        f"mean absolute error {statistics.fmean(errors):.1f} min"
    )


if __name__ == "__main__":
    main()
