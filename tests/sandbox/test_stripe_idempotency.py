"""Idempotency keys with Stripe's semantics, and refunds, which depend on them most."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.sandbox_stripe import assert_stripe_error, session_params, stripe_api  # noqa: F401
from waco.sandbox.models import StripeCheckoutSession, StripeIdempotencyKey, StripeRefund
from waco.sandbox.stripe.payments import session_pay_card

pytestmark = pytest.mark.django_db


def test_same_key_and_params_replays_the_first_response(stripe_api):
    params = session_params()
    first = stripe_api.post("/checkout/sessions", params, idempotency_key="order-42-attempt-1")
    again = stripe_api.post("/checkout/sessions", params, idempotency_key="order-42-attempt-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert StripeCheckoutSession.objects.count() == 1


def test_same_key_with_other_params_is_an_idempotency_error(stripe_api):
    stripe_api.post("/checkout/sessions", session_params(), idempotency_key="k1")
    other = session_params(metadata={"order_id": "43"})
    assert_stripe_error(stripe_api.post("/checkout/sessions", other, idempotency_key="k1"), 400, "idempotency_error")
    assert StripeCheckoutSession.objects.count() == 1


def test_same_key_on_another_endpoint_is_an_idempotency_error(stripe_api):
    session_id = stripe_api.create_session()["id"]
    stripe_api.post(f"/checkout/sessions/{session_id}/expire", idempotency_key="k2")
    response = stripe_api.post("/checkout/sessions", session_params(), idempotency_key="k2")
    assert_stripe_error(response, 400, "idempotency_error")


def test_an_error_after_validation_is_replayed_too(stripe_api):
    session_id = stripe_api.create_session()["id"]
    stripe_api.post(f"/checkout/sessions/{session_id}/expire")
    first = stripe_api.post(f"/checkout/sessions/{session_id}/expire", idempotency_key="k3")
    again = stripe_api.post(f"/checkout/sessions/{session_id}/expire", idempotency_key="k3")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


def test_a_request_refused_by_validation_saves_nothing_under_its_key(stripe_api):
    bad = session_params(expires_at=int(timezone.now().timestamp()))
    assert_stripe_error(stripe_api.post("/checkout/sessions", bad, idempotency_key="k4"), 400)
    good = stripe_api.post("/checkout/sessions", session_params(), idempotency_key="k4")
    assert good.status_code == 200 and not good.has_header("Idempotent-Replayed")


def test_keys_are_forgotten_after_24_hours(stripe_api):
    params = session_params()
    first = stripe_api.post("/checkout/sessions", params, idempotency_key="k5").json()
    StripeIdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = stripe_api.post("/checkout/sessions", params, idempotency_key="k5").json()
    assert again["id"] != first["id"]
    assert StripeCheckoutSession.objects.count() == 2


def _paid_intent(stripe_api) -> str:
    session_id = stripe_api.create_session()["id"]
    session_pay_card(session_id=session_id)
    return stripe_api.get(f"/checkout/sessions/{session_id}").json()["payment_intent"]


def test_refund_retried_with_its_key_refunds_once(stripe_api):
    intent = _paid_intent(stripe_api)
    first = stripe_api.post("/refunds", {"payment_intent": intent, "amount": 500}, idempotency_key="refund-1")
    again = stripe_api.post("/refunds", {"payment_intent": intent, "amount": 500}, idempotency_key="refund-1")

    refund = first.json()
    assert refund["id"].startswith("re_") and refund["object"] == "refund"
    assert (refund["amount"], refund["currency"], refund["status"]) == (500, "eur", "succeeded")
    assert again.json() == refund
    assert StripeRefund.objects.count() == 1


def test_refund_without_amount_refunds_what_is_left(stripe_api):
    intent = _paid_intent(stripe_api)
    stripe_api.post("/refunds", {"payment_intent": intent, "amount": 999})
    rest = stripe_api.post("/refunds", {"payment_intent": intent}).json()
    assert rest["amount"] == 2999 - 999
    error = assert_stripe_error(stripe_api.post("/refunds", {"payment_intent": intent}), 400)
    assert error["code"] == "charge_already_refunded"


def test_refund_larger_than_what_is_left_is_refused(stripe_api):
    intent = _paid_intent(stripe_api)
    response = stripe_api.post("/refunds", {"payment_intent": intent, "amount": 3000})
    assert assert_stripe_error(response, 400, param="amount")["code"] == "amount_too_large"
    assert not StripeRefund.objects.exists()


def test_refund_of_an_unknown_or_unpaid_payment_is_refused(stripe_api):
    assert_stripe_error(stripe_api.post("/refunds", {"payment_intent": "pi_nope"}), 404)
    assert_stripe_error(stripe_api.post("/refunds", {}), 400, param="payment_intent")
