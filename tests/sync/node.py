"""A kiosk or desk on its own PC, as a separate process, for fault tests.

    python -m tests.sync.node --hub URL --config FILE --device ID --folder DIR --count N

Prints one JSON line per ticket it issued (or called) the moment the resident
would see it, then, when told to settle, waits until everything is pushed and
pulled and prints the ids it holds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from nowserving.domain.config import load_config
from nowserving.domain.errors import NowservingError
from nowserving.sync.replica import ReplicaService, open_replica


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--hub", "--config", "--device", "--folder"):
        parser.add_argument(name, required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--counter", default="")
    # Generous: six hub restarts on a loaded 2-core machine can take a minute to catch up.
    parser.add_argument("--settle", type=float, default=150)
    args = parser.parse_args()
    config = load_config(args.config)
    device = next(d for d in config.devices if d.id == args.device)
    node = ReplicaService(
        open_replica(f"{args.folder}/{device.id}.sqlite"), config, device, args.hub, interval=0.05
    )
    lines = [line.id for line in config.lines]
    rng = random.Random(device.id)
    if args.counter:  # the hub takes a desk's calls only from a staff member signed in there
        node.record_sign_in("tom", args.counter)
    done = 0
    while done < args.count:
        try:
            if args.counter:
                ticket = node.call_next(args.counter, staff="tom")
                if ticket is None:
                    time.sleep(0.05)
                    continue
            else:
                ticket = node.issue(rng.choice(lines))
        except NowservingError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
            time.sleep(0.1)
            continue
        print(
            json.dumps({"id": ticket.id, "label": ticket.label, "token": ticket.token}), flush=True
        )
        done += 1
        time.sleep(rng.uniform(0.01, 0.06))
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        node.sync.now()
        # Settled: everything written here acknowledged, and a full round since then.
        if node.sync.pending() == 0 and node.sync.status.online:
            began = node.clock_now()  # the clock `last_ok` is read from
            while (node.sync.status.last_ok or 0) <= began and time.monotonic() < deadline:
                time.sleep(0.05)
            if node.sync.pending() == 0 and node.sync.status.online:
                break
        time.sleep(0.1)
    node.refresh()
    settled = node.sync.pending() == 0
    print(json.dumps({"settled": settled, "holds": sorted(node.state.tickets)}), flush=True)
    node.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
