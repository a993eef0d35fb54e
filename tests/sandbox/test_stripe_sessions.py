"""The sandbox Stripe's Checkout Sessions: Stripe's shapes, bounds and state rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.sandbox_stripe import (  # noqa: F401
    assert_stripe_error,
    session_params,
    stripe_api,
    stripe_receiver,
)
from waco.sandbox.models import StripeCheckoutSession, StripeEvent
from waco.sandbox.services import deliveries_flush, worker_stop, worker_wake
from waco.sandbox.stripe.payments import session_pay_card, session_pay_delayed

pytestmark = pytest.mark.django_db


def _in(delta: timedelta) -> int:
    return int((timezone.now() + delta).timestamp())


def test_created_session_has_stripes_shape_and_totals(stripe_api):
    session = stripe_api.create_session()

    assert session["id"].startswith("cs_test_") and session["object"] == "checkout.session"
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert session["amount_total"] == 2 * 1250 + 499
    assert session["currency"] == "eur"  # Stripe answers currencies in lower case
    assert session["metadata"] == {"order_id": "42"} and session["client_reference_id"] == "order-42"
    assert session["mode"] == "payment" and session["payment_intent"] is None
    assert session["url"] == f"http://testserver/sandbox/stripe/pay/{session['id']}/"
    assert isinstance(session["created"], int) and isinstance(session["expires_at"], int)


def test_expires_at_defaults_to_24_hours(stripe_api):
    params = session_params()
    del params["expires_at"]
    session = stripe_api.post("/checkout/sessions", params).json()
    assert abs(session["expires_at"] - _in(timedelta(hours=24))) <= 2


@pytest.mark.parametrize(
    "delta", [timedelta(minutes=29), timedelta(hours=24, minutes=1), timedelta(minutes=-5)], ids=str
)
def test_expires_at_outside_30_minutes_to_24_hours_is_refused(stripe_api, delta):
    response = stripe_api.post("/checkout/sessions", session_params(expires_at=_in(delta)))
    assert_stripe_error(response, 400, param="expires_at")
    assert not StripeCheckoutSession.objects.exists()


@pytest.mark.parametrize("delta", [timedelta(minutes=30, seconds=1), timedelta(hours=23, minutes=59)], ids=str)
def test_expires_at_within_bounds_is_accepted(stripe_api, delta):
    response = stripe_api.post("/checkout/sessions", session_params(expires_at=_in(delta)))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("missing", ["mode", "success_url", "line_items"])
def test_missing_required_param_is_named(stripe_api, missing):
    params = session_params()
    del params[missing]
    error = assert_stripe_error(stripe_api.post("/checkout/sessions", params), 400, param=missing)
    assert error["code"] == "parameter_missing"


def test_missing_or_wrong_secret_key_is_401_in_stripes_shape(stripe_api):
    assert_stripe_error(stripe_api.post("/checkout/sessions", session_params(), key=None), 401)
    error = assert_stripe_error(stripe_api.get("/events", key="sk_test_not_the_key_1234"), 401)
    assert "1234" in error["message"] and "not_the_key" not in error["message"]


def test_unknown_session_is_404_resource_missing(stripe_api):
    error = assert_stripe_error(stripe_api.get("/checkout/sessions/cs_test_nope"), 404)
    assert error["code"] == "resource_missing"


def test_unknown_url_is_404(stripe_api):
    assert_stripe_error(stripe_api.get("/customers"), 404)


def test_retrieve_expands_the_payment_intent_and_its_charge_with_card_details(stripe_api):
    session_id = stripe_api.create_session()["id"]
    session_pay_card(session_id=session_id)

    plain = stripe_api.get(f"/checkout/sessions/{session_id}").json()
    assert plain["payment_intent"].startswith("pi_") and plain["url"] is None
    assert (plain["status"], plain["payment_status"]) == ("complete", "paid")

    expanded = stripe_api.get(f"/checkout/sessions/{session_id}", {"expand": ["payment_intent.latest_charge"]}).json()
    intent = expanded["payment_intent"]
    assert intent["object"] == "payment_intent" and intent["status"] == "succeeded"
    card = intent["latest_charge"]["payment_method_details"]["card"]
    assert (card["brand"], card["last4"]) == ("visa", "4242")
    assert card["exp_year"] > timezone.now().year and len(card["fingerprint"]) == 16


def test_expire_ends_an_open_session_with_an_event(stripe_api):
    session_id = stripe_api.create_session()["id"]
    response = stripe_api.post(f"/checkout/sessions/{session_id}/expire")
    assert response.status_code == 200 and response.json()["status"] == "expired"
    event = StripeEvent.objects.get()
    assert event.type == "checkout.session.expired"
    assert event.body["data"]["object"]["id"] == session_id


@pytest.mark.parametrize("pay", [None, session_pay_card, session_pay_delayed], ids=["expired", "paid", "delayed"])
def test_expire_refuses_a_session_that_is_not_open(stripe_api, pay):
    session_id = stripe_api.create_session()["id"]
    if pay is None:
        stripe_api.post(f"/checkout/sessions/{session_id}/expire")
    else:
        pay(session_id=session_id)
    events_before = StripeEvent.objects.count()
    assert_stripe_error(stripe_api.post(f"/checkout/sessions/{session_id}/expire"), 400)
    assert StripeEvent.objects.count() == events_before


def test_sessions_past_expires_at_are_expired_by_the_sweep_with_an_event(stripe_api):
    due = stripe_api.create_session()["id"]
    later = stripe_api.create_session()["id"]
    StripeCheckoutSession.objects.filter(session_id=due).update(expires_at=timezone.now() - timedelta(seconds=1))

    deliveries_flush()

    assert StripeCheckoutSession.objects.get(session_id=due).status == "expired"
    assert StripeCheckoutSession.objects.get(session_id=later).status == "open"
    assert list(StripeEvent.objects.values_list("type", flat=True)) == ["checkout.session.expired"]


def test_a_session_past_expires_at_reads_as_expired_before_any_sweep(stripe_api):
    session_id = stripe_api.create_session()["id"]
    StripeCheckoutSession.objects.filter(session_id=session_id).update(expires_at=timezone.now())
    assert stripe_api.get(f"/checkout/sessions/{session_id}").json()["status"] == "expired"
    assert StripeEvent.objects.filter(type="checkout.session.expired").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_delivery_thread_expires_due_sessions_and_delivers_the_event(stripe_api, stripe_receiver, settings):
    settings.WACO_SANDBOX_DELIVERY_THREAD = True
    try:
        session_id = stripe_api.create_session()["id"]  # its commit starts the thread
        StripeCheckoutSession.objects.filter(session_id=session_id).update(expires_at=timezone.now())
        worker_wake()
        [event] = stripe_receiver.wait_for(1)
        assert event["type"] == "checkout.session.expired" and event["data"]["object"]["id"] == session_id
    finally:
        worker_stop()
