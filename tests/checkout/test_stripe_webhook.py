"""/webhooks/stripe/: the library checks the signature; good events land in the durable inbox once."""

import json
import time

import pytest

from checkout import tasks
from checkout.handlers import StripeWebhookEvent, parse_stripe_body
from checkout.models import PaymentLink
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import place
from waco.ingest import inbox
from waco.ingest.models import Delivery, DeliverySource, InboxEvent
from waco.sandbox.signing import stripe_signature_header

pytestmark = pytest.mark.django_db

URL = "/webhooks/stripe/"


def event_body(event_id="evt_1", session_id="cs_test_1", event_type="checkout.session.completed") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {
                "object": {
                    "id": session_id,
                    "object": "checkout.session",
                    "status": "complete",
                    "payment_status": "paid",
                    "expires_at": int(time.time()) + 3600,
                    "amount_total": 100,
                    "currency": "aed",
                    "metadata": {},
                }
            },
        }
    ).encode()


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.mark.parametrize("signature", [None, "", "t=1,v1=deadbeef", "garbage"])
def test_a_bad_or_missing_signature_is_rejected_and_nothing_is_stored(client, signature):
    response = post(client, event_body(), signature)
    assert response.status_code == 400 and "rejected" in response.json()["error"]
    assert not Delivery.objects.exists()


def test_a_body_changed_after_signing_is_rejected(client):
    body = event_body()
    response = post(client, body.replace(b'"paid"', b'"unpaid"'), stripe_signature_header(body))
    assert response.status_code == 400 and not Delivery.objects.exists()


def test_a_stale_signature_is_rejected(client):
    body = event_body()
    assert post(client, body, stripe_signature_header(body, timestamp=int(time.time()) - 3600)).status_code == 400


def test_a_signed_event_is_stored_in_the_inbox_and_acknowledged(client):
    body = event_body()
    response = post(client, body, stripe_signature_header(body))
    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.source == DeliverySource.STRIPE and json.loads(delivery.body)["id"] == "evt_1"


def test_during_a_rotation_every_listed_secret_verifies_and_the_first_signs(client, settings):
    old, new, unknown = event_body("evt_old"), event_body("evt_new"), event_body("evt_unknown")
    settings.WACO_STRIPE_WEBHOOK_SECRETS = ["whsec_old_still_accepted"]
    signed_with_old = stripe_signature_header(old)
    settings.WACO_STRIPE_WEBHOOK_SECRETS = ["whsec_someone_elses"]
    signed_with_unknown = stripe_signature_header(unknown)
    settings.WACO_STRIPE_WEBHOOK_SECRETS = ["whsec_new_after_rotation", "whsec_old_still_accepted"]
    signed_with_new = stripe_signature_header(new)  # the sandbox signs with the first
    assert post(client, old, signed_with_old).status_code == 200
    assert post(client, new, signed_with_new).status_code == 200
    assert post(client, unknown, signed_with_unknown).status_code == 400
    assert sorted(json.loads(d.body)["id"] for d in Delivery.objects.all()) == ["evt_new", "evt_old"]
    settings.WACO_STRIPE_WEBHOOK_SECRETS = ["whsec_old_still_accepted"]
    assert post(client, new, signed_with_new).status_code == 400  # signed with the new one, which is not listed


def test_the_same_event_delivered_twice_is_applied_once(client, django_capture_on_commit_callbacks, monkeypatch):
    _, link = place(VariantFactory())
    PaymentLink.objects.filter(pk=link.pk).update(stripe_session_id="cs_test_1", status="open")
    rereads = []
    monkeypatch.setattr(tasks.reconcile_payment, "apply_async", lambda args, **kw: rereads.append(args))
    body = event_body()
    for _ in range(2):
        post(client, body, stripe_signature_header(body))
    with django_capture_on_commit_callbacks(execute=True):
        inbox.inbox_drain()
    assert rereads == [(link.pk, "checkout.session.completed")]
    assert InboxEvent.objects.filter(source=DeliverySource.STRIPE, dedupe_key="stripe:evt_1").count() == 1
    assert Delivery.objects.filter(status="done").count() == 2


def test_an_unreadable_body_becomes_an_unhandled_event():
    [event] = parse_stripe_body("not json")
    assert event.kind == "stripe_unreadable"
    [event] = parse_stripe_body(event_body().decode())
    assert isinstance(event, StripeWebhookEvent) and event.dedupe_key == "stripe:evt_1"
    assert (event.object_type, event.object_id) == ("checkout.session", "cs_test_1")
