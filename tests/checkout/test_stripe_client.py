"""checkout.stripe_client against the sandbox Stripe over real HTTP, as in the demo."""

import json
import logging
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests
from django.utils import timezone

from checkout import stripe_client
from checkout.stripe_client import (
    LineItem,
    StripeAuthError,
    StripePermanentError,
    StripeSignatureError,
    StripeTransientError,
)
from tests.support.sandbox_stripe import stripe_receiver  # noqa: F401
from waco.sandbox.models import StripeCharge
from waco.sandbox.services import config_update, deliveries_flush
from waco.sandbox.signing import stripe_signature_header
from waco.sandbox.stripe.payments import session_pay_card, session_pay_delayed

ITEMS = [LineItem(name="Tea", unit_amount=1250, quantity=2), LineItem(name="Mug", unit_amount=499, quantity=1)]


@pytest.fixture(autouse=True)
def stripe_at_sandbox(live_server, settings):
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_SANDBOX_DELIVERY_THREAD = False
    yield
    stripe_client.stripe_clients_close()


def _create(order_ref="order-7", key="order-7-attempt-1", expires_in=timedelta(hours=1), **overrides):
    arguments = {
        "order_ref": order_ref,
        "line_items": ITEMS,
        "currency": "EUR",
        "expires_at": timezone.now() + expires_in,
        "idempotency_key": key,
        "success_url": "https://shop.example/paid",
        "cancel_url": "https://shop.example/cancelled",
        "metadata": {"thread": "12"},
    }
    arguments.update(overrides)
    return stripe_client.checkout_session_create(**arguments)


def test_create_returns_the_session_with_the_order_in_metadata():
    session = _create()
    assert session.id.startswith("cs_test_") and session.status == "open" and session.payment_status == "unpaid"
    assert (session.amount_total, session.currency) == (2999, "eur")
    assert session.metadata == {"thread": "12", "order_id": "order-7"}
    assert abs((session.expires_at - timezone.now()) - timedelta(hours=1)) < timedelta(seconds=5)
    assert requests.get(session.url, timeout=5).status_code == 200


def test_create_with_the_same_key_returns_the_same_session():
    # A retry sends the same arguments, expiry included, as checkout does from the stored link.
    expires_at = timezone.now() + timedelta(hours=1)
    assert _create(expires_at=expires_at).id == _create(expires_at=expires_at).id


def test_same_key_for_another_order_is_a_permanent_error():
    _create()
    with pytest.raises(StripePermanentError):
        _create(order_ref="order-8")


def test_expires_at_under_30_minutes_is_a_permanent_error_naming_nothing_secret():
    with pytest.raises(StripePermanentError) as raised:
        _create(expires_in=timedelta(minutes=10))
    assert raised.value.http_status == 400 and "30 minutes" in str(raised.value)


def test_retrieve_shows_payment_and_only_the_payment_intent_id():
    session = _create()
    session_pay_card(session_id=session.id)
    paid = stripe_client.checkout_session_retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.payment_intent_id.startswith("pi_")


def test_expire_is_a_normal_answer_whatever_the_session_state():
    open_session, paid_session = _create(), _create(order_ref="order-8", key="order-8-attempt-1")
    session_pay_delayed(session_id=paid_session.id)
    assert stripe_client.checkout_session_expire(open_session.id).status == "expired"
    assert stripe_client.checkout_session_expire(open_session.id).status == "expired"
    assert stripe_client.checkout_session_expire(paid_session.id).status == "complete"


def test_expire_of_an_unknown_session_is_a_permanent_error():
    with pytest.raises(StripePermanentError) as raised:
        stripe_client.checkout_session_expire("cs_test_nope")
    assert raised.value.code == "resource_missing"


def test_refund_is_idempotent_and_partial_refunds_add_up():
    session = _create()
    session_pay_card(session_id=session.id)
    intent = stripe_client.checkout_session_retrieve(session.id).payment_intent_id
    first = stripe_client.refund_create(payment_intent_id=intent, amount=999, idempotency_key="refund-1")
    assert stripe_client.refund_create(payment_intent_id=intent, amount=999, idempotency_key="refund-1") == first
    rest = stripe_client.refund_create(payment_intent_id=intent, amount=None, idempotency_key="refund-2")
    assert (first.amount, rest.amount, rest.currency, rest.payment_intent_id) == (999, 2000, "eur", intent)
    with pytest.raises(StripePermanentError):
        stripe_client.refund_create(payment_intent_id=intent, amount=1, idempotency_key="refund-3")


def test_events_undelivered_lists_what_the_webhook_never_got(stripe_receiver):
    config_update(changes={"stripe_faults": {"drop": ["checkout.session.expired"]}})
    since = timezone.now() - timedelta(seconds=1)
    paid, expired = _create(), _create(order_ref="order-8", key="order-8-attempt-1")
    session_pay_card(session_id=paid.id)
    stripe_client.checkout_session_expire(expired.id)
    deliveries_flush()

    undelivered = list(stripe_client.events_undelivered(since=since))
    assert [(e.type, e.object_id) for e in undelivered] == [("checkout.session.expired", expired.id)]
    assert undelivered[0].session.status == "expired"
    assert stripe_receiver.types() == ["checkout.session.completed"]


def test_event_construct_verifies_the_signature():
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "checkout.session.completed",
            "created": 1700000000,
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "status": "complete",
                    "payment_status": "paid",
                    "expires_at": 1700003600,
                    "amount_total": 500,
                    "currency": "eur",
                    "payment_intent": "pi_1",
                    "metadata": {"order_id": "7"},
                }
            },
        }
    ).encode()
    event = stripe_client.event_construct(body, stripe_signature_header(body))
    assert (event.id, event.type, event.object_id) == ("evt_1", "checkout.session.completed", "cs_test_1")
    assert event.session.metadata == {"order_id": "7"} and event.session.payment_intent_id == "pi_1"

    with pytest.raises(StripeSignatureError):
        stripe_client.event_construct(body.replace(b"paid", b"unpaid"), stripe_signature_header(body))
    stale = int(timezone.now().timestamp()) - 301
    with pytest.raises(StripeSignatureError):
        stripe_client.event_construct(body, stripe_signature_header(body, timestamp=stale))
    with pytest.raises(StripeSignatureError):
        stripe_client.event_construct(b"not json", stripe_signature_header(b"not json"))


def test_a_wrong_secret_key_is_an_auth_error(settings, monkeypatch):
    # The sandbox checks the key against the same setting, so only Waco's side is changed.
    waco_settings = SimpleNamespace(
        WACO_STRIPE_SECRET_KEY="sk_test_wrong_key_0000", WACO_STRIPE_API_BASE=settings.WACO_STRIPE_API_BASE
    )
    monkeypatch.setattr(stripe_client, "settings", waco_settings)
    with pytest.raises(StripeAuthError):
        stripe_client.checkout_session_retrieve("cs_test_any")


def test_an_unreachable_stripe_is_a_transient_error(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.WACO_STRIPE_API_BASE = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(StripeTransientError):
        stripe_client.checkout_session_retrieve("cs_test_any")


def test_a_stripe_5xx_is_a_transient_error_after_the_librarys_retries(settings):
    calls = []

    class Failing(BaseHTTPRequestHandler):
        def do_GET(self):
            calls.append(self.path)
            body = json.dumps({"error": {"type": "api_error", "message": "Stripe is having a bad day"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.WACO_STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(StripeTransientError) as raised:
            stripe_client.checkout_session_retrieve("cs_test_any")
    finally:
        server.shutdown()
        server.server_close()
    assert raised.value.http_status == 500
    assert calls == ["/v1/checkout/sessions/cs_test_any"] * (stripe_client.MAX_NETWORK_RETRIES + 1)


def test_card_details_never_reach_the_clients_values_or_logs(caplog, stripe_receiver):
    caplog.set_level(logging.DEBUG)
    session = _create()
    session_pay_card(session_id=session.id)
    deliveries_flush()
    values = [
        stripe_client.checkout_session_retrieve(session.id),
        stripe_client.refund_create(
            payment_intent_id=stripe_client.checkout_session_retrieve(session.id).payment_intent_id,
            amount=None,
            idempotency_key="refund-1",
        ),
        *stripe_client.events_undelivered(since=timezone.now() - timedelta(hours=1)),
    ]
    card = StripeCharge.objects.get().payment_method_details["card"]
    seen = repr(values) + caplog.text
    for secret in (card["fingerprint"], card["last4"], str(card["exp_year"]), card["brand"]):
        assert secret not in seen
