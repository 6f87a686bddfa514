"""A real HTTP receiver on 127.0.0.1: answers with the scripted status codes in turn
(the last one repeats), optionally after a delay, and records every request."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses=(200,), delays=(0.0,), body: bytes = b"ok"):
        self.statuses = list(statuses)
        self.delays = list(delays)
        self.body = body
        self.requests: list[dict] = []
        self.unsent_bodies = 0  # answers the client stopped reading (connection closed)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with receiver._lock:
                    n = len(receiver.requests)
                    receiver.requests.append({"headers": {k.lower(): v for k, v in
                                                          self.headers.items()},
                                              "body": raw, "path": self.path,
                                              "at": time.time()})
                    receiver._arrived.notify_all()
                status = receiver.statuses[min(n, len(receiver.statuses) - 1)]
                delay = receiver.delays[min(n, len(receiver.delays) - 1)]
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(receiver.body)))
                    self.end_headers()
                    self.wfile.write(receiver.body)
                    self.wfile.flush()
                except OSError:
                    with receiver._lock:
                        receiver.unsent_bodies += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"receiver got {len(self.requests)} request(s), expected {count}")
                self._arrived.wait(left)
            return list(self.requests)

    def events(self) -> list[dict]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.requests]
