"""Helpers for the sandbox Stripe's tests: a form-encoding API client and a real webhook receiver
that verifies signatures with stripe-python, as Waco will."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from tests.support.webhook_receiver import WebhookReceiver

API = "/sandbox/stripe/v1"


def form_pairs(params, prefix=""):
    """Stripe's form encoding: metadata[order_id]=7, line_items[0][quantity]=1."""
    if isinstance(params, dict):
        for key, value in params.items():
            yield from form_pairs(value, f"{prefix}[{key}]" if prefix else key)
    elif isinstance(params, list):
        for index, value in enumerate(params):
            yield from form_pairs(value, f"{prefix}[{index}]")
    elif isinstance(params, bool):
        yield prefix, "true" if params else "false"
    else:
        yield prefix, str(params)


class StripeApi:
    """The Django test client speaking to the sandbox like stripe-python does."""

    def __init__(self, client):
        self.client = client

    def _headers(self, key, idempotency_key):
        key = settings.WACO_STRIPE_SECRET_KEY if key is ... else key
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
        if idempotency_key:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        return headers

    def post(self, path, params=None, *, key=..., idempotency_key=None):
        return self.client.post(
            f"{API}{path}",
            data=urlencode(list(form_pairs(params or {}))),
            content_type="application/x-www-form-urlencoded",
            **self._headers(key, idempotency_key),
        )

    def get(self, path, params=None, *, key=...):
        query = urlencode(list(form_pairs(params or {})))
        return self.client.get(f"{API}{path}?{query}", **self._headers(key, None))

    def create_session(self, **overrides):
        response = self.post("/checkout/sessions", session_params(**overrides))
        assert response.status_code == 200, response.content
        return response.json()


def session_params(**overrides) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "EUR", "unit_amount": 1250, "product_data": {"name": "Tea"}}, "quantity": 2},
            {"price_data": {"currency": "EUR", "unit_amount": 499, "product_data": {"name": "Mug"}}, "quantity": 1},
        ],
        "success_url": "https://shop.example/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancelled",
        "expires_at": int((timezone.now() + timedelta(hours=1)).timestamp()),
        "metadata": {"order_id": "42"},
        "client_reference_id": "order-42",
        "payment_method_types": ["card"],
    }
    params.update(overrides)
    return params


def assert_stripe_error(response, http_status, error_type="invalid_request_error", param=None):
    """Stripe's error shape: {"error": {"type", "message", "code"?, "param"?}}."""
    assert response.status_code == http_status, response.content
    error = response.json()["error"]
    assert set(error) <= {"type", "message", "code", "param"}
    assert error["type"] == error_type and error["message"]
    if param is not None:
        assert error["param"] == param
    return error


class StripeReceiver(WebhookReceiver):
    """Waco's Stripe webhook in miniature: verifies Stripe-Signature with stripe-python."""

    path = "/webhooks/stripe/"
    signature_header = "Stripe-Signature"

    def signature_ok(self, raw: bytes, header: str) -> bool:
        try:
            stripe.Webhook.construct_event(raw, header, settings.WACO_STRIPE_WEBHOOK_SECRETS[0])
        except stripe.SignatureVerificationError:
            return False
        return True

    @property
    def events(self) -> list[dict]:
        return self.bodies

    def types(self) -> list[str]:
        return [event["type"] for event in self.events]


@pytest.fixture
def stripe_api(client):
    return StripeApi(client)


@pytest.fixture
def stripe_receiver(settings):
    receiver = StripeReceiver().start()
    settings.WACO_SANDBOX_STRIPE_WEBHOOK_URL = receiver.url
    yield receiver
    receiver.stop()
