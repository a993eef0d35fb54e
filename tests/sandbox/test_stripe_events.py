"""Stripe events: listed newest first, delivered signed like Stripe, dropped, duplicated, reordered."""

from datetime import timedelta

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from tests.support.sandbox_stripe import stripe_api, stripe_receiver  # noqa: F401
from waco.sandbox.config import ConfigError
from waco.sandbox.models import Delivery, StripeEvent
from waco.sandbox.services import config_update, deliveries_flush
from waco.sandbox.signing import stripe_signature_header
from waco.sandbox.stripe.events import event_emit
from waco.sandbox.stripe.payments import session_pay_card

pytestmark = pytest.mark.django_db


def _paid_session(stripe_api) -> str:
    session_id = stripe_api.create_session()["id"]
    session_pay_card(session_id=session_id)
    return session_id


def _expired_session(stripe_api) -> str:
    session_id = stripe_api.create_session()["id"]
    stripe_api.post(f"/checkout/sessions/{session_id}/expire")
    return session_id


def _listed(stripe_api, **params) -> list[str]:
    response = stripe_api.get("/events", params)
    assert response.status_code == 200, response.content
    return [event["id"] for event in response.json()["data"]]


def test_signature_verifies_with_stripe_python_and_fails_with_another_secret():
    body, secret = b'{"id": "evt_1", "object": "event"}', settings.WACO_STRIPE_WEBHOOK_SECRETS[0]
    header = stripe_signature_header(body)
    assert stripe.Webhook.construct_event(body, header, secret).id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"evt_1", b"evt_2"), header, secret)


def test_paying_delivers_checkout_session_completed_signed_to_the_stripe_webhook(stripe_api, stripe_receiver):
    session_id = _paid_session(stripe_api)
    assert deliveries_flush() == 1

    [event] = stripe_receiver.events
    assert stripe_receiver.bad_signatures == 0
    assert event["type"] == "checkout.session.completed" and event["id"].startswith("evt_")
    session = event["data"]["object"]
    assert session["id"] == session_id and session["payment_status"] == "paid"
    assert session["metadata"] == {"order_id": "42"}


def test_a_failed_delivery_is_retried_and_listed_undelivered_until_it_succeeds(stripe_api, stripe_receiver):
    stripe_receiver.responses.append(500)
    _paid_session(stripe_api)
    deliveries_flush()
    [event_id] = _listed(stripe_api, delivery_success=False)
    assert stripe_api.get(f"/events/{event_id}").json()["pending_webhooks"] == 1

    deliveries_flush(horizon_seconds=10)
    assert stripe_receiver.attempts == 2 and len(stripe_receiver.events) == 1
    assert _listed(stripe_api, delivery_success=False) == []
    assert _listed(stripe_api, delivery_success=True) == [event_id]


def test_events_are_listed_newest_first_and_paged_with_starting_after(stripe_api):
    for _ in range(3):
        _expired_session(stripe_api)
    newest_first = list(StripeEvent.objects.order_by("-created_at", "-pk").values_list("event_id", flat=True))

    first_page = stripe_api.get("/events", {"limit": 2}).json()
    assert [e["id"] for e in first_page["data"]] == newest_first[:2] and first_page["has_more"]
    rest = stripe_api.get("/events", {"limit": 2, "starting_after": newest_first[1]}).json()
    assert [e["id"] for e in rest["data"]] == newest_first[2:] and not rest["has_more"]


def test_events_filter_by_type_with_wildcard_and_by_created(stripe_api):
    _paid_session(stripe_api)
    _expired_session(stripe_api)
    expired = StripeEvent.objects.get(type="checkout.session.expired").event_id
    assert _listed(stripe_api, type="checkout.session.expired") == [expired]
    assert len(_listed(stripe_api, type="checkout.session.*")) == 2
    StripeEvent.objects.filter(event_id=expired).update(created_at=timezone.now() - timedelta(days=2))
    since = int((timezone.now() - timedelta(days=1)).timestamp())
    assert expired not in _listed(stripe_api, created={"gte": since})


def test_unknown_event_is_404(stripe_api):
    assert stripe_api.get("/events/evt_nope").status_code == 404


def test_dropped_event_types_are_never_sent_and_stay_undelivered(stripe_api, stripe_receiver):
    config_update(changes={"stripe_faults": {"drop": ["checkout.session.completed"]}})
    _paid_session(stripe_api)
    _expired_session(stripe_api)
    deliveries_flush(horizon_seconds=60)

    assert stripe_receiver.types() == ["checkout.session.expired"]
    completed = StripeEvent.objects.get(type="checkout.session.completed").event_id
    assert _listed(stripe_api, delivery_success=False) == [completed]


def test_drop_rate_drops_exactly_that_share_of_events(stripe_api, stripe_receiver):
    config_update(changes={"stripe_faults": {"drop": 0.1}})
    for number in range(100):
        event_emit(type="refund.created", data_object={"object": "refund", "id": f"re_{number}"})
    assert Delivery.objects.count() == 90
    assert len(_listed(stripe_api, delivery_success=False, limit=100)) == 100  # none delivered yet
    deliveries_flush()
    assert len(_listed(stripe_api, delivery_success=False, limit=100)) == 10


def test_duplicated_event_arrives_twice_with_the_same_id(stripe_api, stripe_receiver):
    config_update(changes={"stripe_faults": {"duplicate": 1.0}})
    _paid_session(stripe_api)
    deliveries_flush()
    first, second = stripe_receiver.events
    assert first == second
    assert _listed(stripe_api, delivery_success=False) == []


def test_reordered_event_is_overtaken_by_a_later_one(stripe_api, stripe_receiver):
    config_update(changes={"stripe_faults": {"reorder": ["checkout.session.completed"]}, "reorder_delay_ms": 500})
    _paid_session(stripe_api)
    _expired_session(stripe_api)
    deliveries_flush()
    assert stripe_receiver.types() == ["checkout.session.expired"]
    deliveries_flush(horizon_seconds=1)
    assert stripe_receiver.types() == ["checkout.session.expired", "checkout.session.completed"]


def test_stripe_faults_config_is_validated():
    with pytest.raises(ConfigError, match="drop"):
        config_update(changes={"stripe_faults": {"drop": 2}})
    with pytest.raises(ConfigError):
        config_update(changes={"stripe_faults": {"lose": 0.1}})
    config = config_update(changes={"stripe_faults": {"duplicate": ["refund.created"]}})
    assert config["stripe_faults"] == {"drop": 0.0, "duplicate": ["refund.created"], "reorder": 0.0}


def test_stripe_events_never_go_to_the_whatsapp_webhook(stripe_api, stripe_receiver, settings):
    settings.WACO_SANDBOX_WEBHOOK_URL = "http://127.0.0.1:9/never"
    _paid_session(stripe_api)
    deliveries_flush()
    assert Delivery.objects.get().kind == "stripe" and len(stripe_receiver.events) == 1
