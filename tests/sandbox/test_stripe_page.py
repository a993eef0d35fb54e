"""The hosted checkout page: the customer pays, is declined, pays late or lets it expire."""

import pytest

from tests.support.sandbox_stripe import stripe_api  # noqa: F401
from waco.sandbox.models import StripeCheckoutSession, StripeEvent

pytestmark = pytest.mark.django_db


def _press(client, session_id, action):
    return client.post(f"/sandbox/stripe/pay/{session_id}/{action}/")


def _state(session_id):
    session = StripeCheckoutSession.objects.get(session_id=session_id)
    return session.status, session.payment_status


def _event_types():
    return list(StripeEvent.objects.order_by("pk").values_list("type", flat=True))


def test_page_shows_line_items_and_total(client, stripe_api):
    session = stripe_api.create_session()
    page = client.get(session["url"]).content.decode()
    assert "Tea × 2" in page and "Mug × 1" in page and "29.99 EUR" in page
    assert "Pay with a delayed method" in page and "Let it expire" in page


def test_pay_completes_the_session_and_redirects_to_success_url(client, stripe_api):
    session_id = stripe_api.create_session()["id"]
    response = _press(client, session_id, "pay")
    assert response.status_code == 302
    assert response["Location"] == f"https://shop.example/paid?session={session_id}"
    assert _state(session_id) == ("complete", "paid")
    assert _event_types() == ["checkout.session.completed"]
    assert "This payment is complete." in client.get(f"/sandbox/stripe/pay/{session_id}/").content.decode()


def test_a_declined_card_leaves_the_session_open_without_a_session_event(client, stripe_api):
    session_id = stripe_api.create_session()["id"]
    response = _press(client, session_id, "decline")
    assert "Your card was declined." in response.content.decode()
    assert _state(session_id) == ("open", "unpaid") and _event_types() == []
    intent = stripe_api.get(f"/checkout/sessions/{session_id}", {"expand": ["payment_intent"]}).json()
    assert intent["payment_intent"]["last_payment_error"]["code"] == "card_declined"

    _press(client, session_id, "pay")  # a second card works
    assert _state(session_id) == ("complete", "paid")


def test_delayed_payment_completes_unpaid_then_succeeds(client, stripe_api):
    session_id = stripe_api.create_session()["id"]
    _press(client, session_id, "pay-delayed")
    assert _state(session_id) == ("complete", "unpaid")
    assert "Delayed payment succeeds" in client.get(f"/sandbox/stripe/pay/{session_id}/").content.decode()

    _press(client, session_id, "settle-succeeded")
    assert _state(session_id) == ("complete", "paid")
    assert _event_types() == ["checkout.session.completed", "checkout.session.async_payment_succeeded"]


def test_delayed_payment_can_fail_and_settles_only_once(client, stripe_api):
    session_id = stripe_api.create_session()["id"]
    _press(client, session_id, "pay-delayed")
    _press(client, session_id, "settle-failed")
    assert _state(session_id) == ("complete", "unpaid")
    assert _event_types() == ["checkout.session.completed", "checkout.session.async_payment_failed"]
    assert _press(client, session_id, "settle-succeeded").status_code == 409
    assert len(_event_types()) == 2


def test_let_it_expire_expires_the_session_and_the_page_says_so(client, stripe_api):
    session_id = stripe_api.create_session()["id"]
    response = _press(client, session_id, "expire")
    assert "This Checkout Session has expired." in response.content.decode()
    assert _state(session_id) == ("expired", "unpaid")
    assert _event_types() == ["checkout.session.expired"]
    assert _press(client, session_id, "pay").status_code == 409
    assert _state(session_id) == ("expired", "unpaid")


def test_unknown_session_page_is_404(client):
    assert client.get("/sandbox/stripe/pay/cs_test_nope/").status_code == 404
