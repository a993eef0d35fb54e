"""Helpers to send Meta-like webhooks to our endpoint in tests."""

import json
import time

from django.conf import settings

from tests.ingest.factories import DeliveryFactory
from tests.support.payloads import webhook_files
from waco.cloud_api.signature import sign
from waco.ingest import services as ingest

WEBHOOK_FILES = webhook_files()
WEBHOOK_URL = "/webhooks/whatsapp/"


def signed_headers(body: bytes, secret: str | None = None) -> dict:
    secret = secret or settings.WACO_META_APP_SECRETS[0]
    return {"HTTP_X_HUB_SIGNATURE_256": sign(body, secret)}


def post_webhook(client, body: bytes, secret: str | None = None, **extra):
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **signed_headers(body, secret), **extra)


def text_message_body(
    *,
    phone_number_id: str,
    wa_id: str | None = "971500000001",
    user_id: str | None = None,
    wamid: str = "wamid.TEST1",
    text: str = "hello",
    timestamp: int | None = None,
    name: str = "Amal",
) -> bytes:
    """A `messages` delivery with one text message, shaped like Meta's."""
    contact = {"profile": {"name": name}}
    message = {"id": wamid, "timestamp": str(timestamp or int(time.time())), "type": "text", "text": {"body": text}}
    if wa_id:
        contact["wa_id"] = wa_id
        message["from"] = wa_id
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "971500000000", "phone_number_id": phone_number_id},
        "contacts": [contact],
        "messages": [message],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(envelope).encode()


def phone_number_ids_in(body: dict) -> set[str]:
    ids = set()
    for entry in body.get("entry", []):
        for change in entry.get("changes", []):
            metadata = (change.get("value") or {}).get("metadata") or {}
            if metadata.get("phone_number_id"):
                ids.add(str(metadata["phone_number_id"]))
    return ids


def deliver(body: bytes) -> None:
    """A delivery stored and processed here, as a worker would: no HTTP, no queue."""
    delivery = DeliveryFactory(body=body.decode())
    assert ingest.delivery_process(delivery_id=delivery.pk).failed == 0
