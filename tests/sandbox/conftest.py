"""Fixtures for the sandbox: a seeded business, a Graph client and a real webhook receiver."""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from waco.sandbox.services import sandbox_seed

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
TOKEN = "sandbox-test-token"
CATALOG_ID = "354160437058781"
VERSION = "v24.0"
CUSTOMER = "15551234567"


@pytest.fixture(autouse=True)
def _no_delivery_thread(settings):
    """Tests drive delivery with deliveries_flush; the thread test turns it back on."""
    settings.WACO_SANDBOX_DELIVERY_THREAD = False


@pytest.fixture
def number(db):
    return sandbox_seed(
        waba_id=WABA_ID,
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number=DISPLAY_NUMBER,
        access_token=TOKEN,
        catalog_id=CATALOG_ID,
    )


class GraphClient:
    """The Django test client speaking to the sandbox like Waco's Graph client would."""

    def __init__(self, client, token=TOKEN):
        self.client = client
        self.token = token

    def _headers(self, token):
        token = self.token if token is ... else token
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def post(self, path, body, *, token=..., raw=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            f"/sandbox/graph/{VERSION}/{path}",
            data=data,
            content_type="application/json",
            **self._headers(token),
        )

    def get(self, path, params=None, *, token=...):
        return self.client.get(f"/sandbox/graph/{VERSION}/{path}", params or {}, **self._headers(token))

    def delete(self, path, *, token=...):
        return self.client.delete(f"/sandbox/graph/{VERSION}/{path}", **self._headers(token))

    def send(self, body, *, token=..., phone_number_id=PHONE_NUMBER_ID):
        return self.post(f"{phone_number_id}/messages", body, token=token)

    def text(self, to=CUSTOMER, body="Hello", **extra):
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": body},
            **extra,
        }
        return self.send(payload)


@pytest.fixture
def graph(client):
    return GraphClient(client)


def customer_says(client, text="hi", *, wa_id=CUSTOMER, name="Ada", **extra):
    payload = {"from": wa_id, "name": name, "message": {"type": "text", "text": {"body": text}}, **extra}
    response = client.post(
        "/sandbox/customer/messages", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["id"]


def assert_graph_error(response, code, http_status=400):
    """Meta's error shape, exactly."""
    assert response.status_code == http_status, response.content
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str) and error["error_data"]["details"]
    assert error["fbtrace_id"]
    return error


class Receiver:
    """A tiny real webhook endpoint: checks the signature, records bodies, answers as told."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.attempts = 0
        self.bad_signatures = 0
        self.responses: deque[int] = deque()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/whatsapp/"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver._record(raw, self.headers.get("X-Hub-Signature-256", ""))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def _record(self, raw: bytes, signature: str) -> int:
        secret = settings.WACO_META_APP_SECRETS[0].encode()
        expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
        with self._lock:
            self.attempts += 1
            if not hmac.compare_digest(expected, signature):
                self.bad_signatures += 1
                return 401
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

    def wait_for_nothing(self, seconds: float) -> bool:
        """True if a webhook arrives within `seconds` (it should not)."""
        time.sleep(seconds)
        with self._lock:
            return bool(self.bodies)

    def values(self, field="messages") -> list[dict]:
        return [
            c["value"] for b in self.bodies for e in b["entry"] for c in e["changes"] if c["field"] == field
        ]

    def statuses(self) -> list[dict]:
        return [s for v in self.values() for s in v.get("statuses", [])]

    def messages(self) -> list[dict]:
        return [m for v in self.values() for m in v.get("messages", [])]


@pytest.fixture
def receiver(settings):
    receiver = Receiver()
    receiver._thread.start()
    settings.WACO_SANDBOX_WEBHOOK_URL = receiver.url
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
