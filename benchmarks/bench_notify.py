"""Call to text message: how soon after Call next does the SMS gateway have the message?

    .venv/bin/python benchmarks/bench_notify.py [--residents 1000] [--calls 200]

A hub process on loopback with `--residents` waiting, every one of them opted in
with a phone number; a local HTTP server plays the SMS gateway. A clerk presses
Call next `--calls` times over HTTP, one every 50 ms; for each call the latency is
from just before the request until the gateway has the "called" message for that
resident. Prints the median and p99 (goal: p99 under 2 s) and the calls' own answer
times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hub.conftest import start_hub, stop_hub

arrived: dict[str, float] = {}  # phone -> when its "called" message reached the gateway
lock = threading.Condition()


class Gateway(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if ":called:" in self.headers.get("Idempotency-Key", ""):
            with lock:
                arrived[body["to"]] = time.perf_counter()
                lock.notify_all()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    extra = f"""
[hub.rate_limits]
subscribe = 100000

[notify.sms]
url = "http://127.0.0.1:{server.server_address[1]}/sms"
"""
    with tempfile.TemporaryDirectory() as folder:
        hub = start_hub(Path(folder), extra)
        try:
            phones: dict[str, str] = {}
            session = requests.Session()
            for n in range(args.residents):
                issued = hub.issue("payments")
                phone = f"+1510{5550000 + n}"
                phones[issued["ticket"]["id"]] = phone
                answer = session.post(
                    f"{hub.public_url}/api/tickets/{issued['token']}/contacts",
                    json={"phone": phone},
                    timeout=10,
                )
                answer.raise_for_status()
            clerk = hub.sign_in("maria")
            hub.post("/api/counters/c6/open", clerk)
            latencies, answers = [], []
            for _ in range(args.calls):
                started = time.perf_counter()
                called = hub.post("/api/counters/c6/call-next", clerk).json()
                answers.append(time.perf_counter() - started)
                phone = phones[called["id"]]
                with lock:
                    if not lock.wait_for(lambda p=phone: p in arrived, timeout=30):
                        raise SystemExit(f"no message for {called['label']} within 30 s")
                    latencies.append(arrived[phone] - started)
                time.sleep(0.05)
        finally:
            stop_hub(hub)
            server.shutdown()
    ms = [x * 1000 for x in latencies]
    call_ms = [x * 1000 for x in answers]
    print(f"{args.residents} residents opted in, {args.calls} calls")
    print(f"call -> gateway: median {statistics.median(ms):.0f} ms, p99 {p99(ms):.0f} ms")
    print(f"call answer:     median {statistics.median(call_ms):.0f} ms, p99 {p99(call_ms):.0f} ms")


if __name__ == "__main__":
    main()
