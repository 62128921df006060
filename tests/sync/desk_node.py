"""A desk on its own PC, as a separate process, driven line by line over its stdin.

    python -m tests.sync.desk_node --hub URL --config FILE --device ID --folder DIR \\
        --staff ID --pin PIN --counter ID

Signs in (at the hub while it answers), prints {"ready": ...}, then for each line:
`call` presses Call next and prints what the desk was shown; `settle` waits until
everything is pushed and pulled and prints the conflicts this desk lost; `quit` ends.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from nowserving.domain.config import load_config
from nowserving.domain.errors import NowservingError
from nowserving.sync.replica import ReplicaService, open_replica


def settle(node: ReplicaService, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        node.sync.now()
        began = node.clock_now()  # the clock `last_ok` is read from
        if node.sync.pending() == 0 and node.sync.status.online:
            while (node.sync.status.last_ok or 0) <= began and time.monotonic() < deadline:
                time.sleep(0.05)  # and one full round after that
            if node.sync.pending() == 0 and node.sync.status.online:
                return True
        time.sleep(0.1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--hub", "--config", "--device", "--folder", "--staff", "--pin", "--counter"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    config = load_config(args.config)
    device = next(d for d in config.devices if d.id == args.device)
    node = ReplicaService(
        open_replica(f"{args.folder}/{device.id}.sqlite"), config, device, args.hub
    )
    node.sign_in(args.staff, args.pin)
    print(json.dumps({"ready": node.online or settle(node, 10)}), flush=True)
    for command in sys.stdin:
        if command.strip() == "call":
            began = time.perf_counter()
            try:
                ticket = node.call_next(args.counter, staff=args.staff)
            except NowservingError as exc:
                print(json.dumps({"error": str(exc)}), flush=True)
                continue
            answer = {
                "id": ticket.id if ticket else None,
                "label": ticket.label if ticket else None,
                "online": not node._hub_away(),
                "ms": round((time.perf_counter() - began) * 1000, 2),
            }
            print(json.dumps(answer), flush=True)
        elif command.strip() == "settle":
            settled = settle(node, 60)
            node.refresh()
            mine = node.clock.device
            lost = [c.event_id for c in node.state.conflicts if c.lost_by(mine)]
            print(json.dumps({"settled": settled, "lost": lost}), flush=True)
        elif command.strip() == "quit":
            break
    node.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
