"""A merchant's event receiver on loopback: records every request (raw body and headers) and
answers as scripted, one step per request (a status, HANG past the sender's timeout, or a
redirect), then 200 once the script is spent. An `answer` rule, given the event and the receiver,
may refuse a request with 500 whatever the script says."""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

HANG = "hang"
HANG_LIMIT_SECONDS = 60  # a hung request lets go when the receiver stops, or after this


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]
    status: int | None  # None: hung, no answer given

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    def verify(self, secret: str) -> dict:
        """The event, if the signature verifies with this secret (raises WebhookVerificationError if not)."""
        return Webhook(secret).verify(self.body, self.headers)


class EventReceiver:
    def __init__(self, script=(), answer=None):
        self.script: deque = deque(script)
        self.answer = answer  # (event, receiver) -> 500 to refuse this request, else None
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/waco"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "EventReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status is not None and 200 <= r.status < 300]

    def all_received(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, *, timeout: float = 30, accepted: bool = True) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.accepted() if accepted else self.all_received()
            if len(seen) >= count:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"expected {count} request(s), got {len(seen)} of {len(self.received)}")

    def _step(self):
        with self._lock:
            return self.script.popleft() if self.script else 200

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                step = receiver._step()
                if receiver.answer and receiver.answer(json.loads(body), receiver) == 500:
                    step = 500
                if step == HANG:
                    receiver._record(Received(body, headers, None))
                    receiver._release.wait(HANG_LIMIT_SECONDS)
                    return
                status = 302 if isinstance(step, tuple) else step  # ("redirect", location)
                receiver._record(Received(body, headers, status))
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", step[1])
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler
