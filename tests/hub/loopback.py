"""A small HTTP server on loopback that hands each POST to a test: an SMS gateway, a push
service or a notification provider, as the hub's senders meet them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, dict[str, str], bytes], int]
"""Takes a POST's path, headers and body; returns the status to answer (with no body)."""


@contextlib.contextmanager
def posts_to(answer: Answer) -> Iterator[int]:
    """A running server on 127.0.0.1 whose POSTs go to `answer`; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(answer(self.path, dict(self.headers), body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass  # the tests assert on what was posted, not on the server's log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
