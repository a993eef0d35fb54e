"""Fixtures for the sandbox: a seeded business, a Graph client and a real webhook receiver."""

import hashlib
import hmac
import json

import pytest
from django.conf import settings

from tests.support.sandbox_shop import CATALOG_ID, CUSTOMER, DISPLAY_NUMBER, PHONE_NUMBER_ID, TOKEN, VERSION, WABA_ID
from tests.support.webhook_receiver import WebhookReceiver
from waco.sandbox.services import sandbox_seed


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


class Receiver(WebhookReceiver):
    """Waco's WhatsApp webhook in miniature: checks X-Hub-Signature-256 like Waco does."""

    path = "/webhooks/whatsapp/"
    signature_header = "X-Hub-Signature-256"
    bad_signature_status = 401

    def signature_ok(self, raw: bytes, header: str) -> bool:
        secret = settings.WACO_META_APP_SECRETS[0].encode()
        return hmac.compare_digest("sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest(), header)

    def values(self, field="messages") -> list[dict]:
        return [c["value"] for b in self.bodies for e in b["entry"] for c in e["changes"] if c["field"] == field]

    def statuses(self) -> list[dict]:
        return [s for v in self.values() for s in v.get("statuses", [])]

    def messages(self) -> list[dict]:
        return [m for v in self.values() for m in v.get("messages", [])]


@pytest.fixture
def receiver(settings):
    receiver = Receiver().start()
    settings.WACO_SANDBOX_WEBHOOK_URL = receiver.url
    yield receiver
    receiver.stop()
