"""A real HTTP receiver for hooks on 127.0.0.1: records every request, answers from a script.

Each request gets the next scripted answer (status, headers, body), then the
last one again; by default 200 "ok".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: tuple[int, dict[str, str], bytes]) -> None:
        with self.lock:
            self.answers[:] = list(answers)

    def next_answer(self) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            if len(self.answers) > 1:
                return self.answers.pop(0)
            return self.answers[0] if self.answers else (200, {}, b"ok")

    def record(self, request: Received) -> None:
        with self.lock:
            self.received.append(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    receiver: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        self.receiver.record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, headers, answer = self.receiver.next_answer()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # quiet in test output
        pass


@contextmanager
def receiving(path: str = "/hook") -> Iterator[Receiver]:
    """A receiver serving until the block ends; its URL is http://127.0.0.1:<port><path>."""
    receiver = Receiver("")
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
