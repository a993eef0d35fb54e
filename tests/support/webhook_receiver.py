"""A tiny real webhook endpoint for the sandbox's tests: checks the signature, records the
bodies it accepts, answers with the statuses it is told (then 200)."""

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    path = "/"
    signature_header = ""
    bad_signature_status = 400

    def __init__(self):
        self.bodies: list[dict] = []
        self.attempts = 0
        self.bad_signatures = 0
        self.responses: deque[int] = deque()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def signature_ok(self, raw: bytes, header: str) -> bool:
        raise NotImplementedError

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver._record(raw, self.headers.get(receiver.signature_header, ""))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def _record(self, raw: bytes, header: str) -> int:
        with self._lock:
            self.attempts += 1
            if not self.signature_ok(raw, header):
                self.bad_signatures += 1
                return self.bad_signature_status
            status = self.responses.popleft() if self.responses else 200
            if 200 <= status < 300:
                self.bodies.append(json.loads(raw))
            return status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.bodies) >= count:
                    return list(self.bodies)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhook(s), got {len(self.bodies)}")
