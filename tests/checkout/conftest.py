"""Checkout tests' Stripe: refunds and session expiry answered in-process (the sandbox over HTTP is
tested in test_stripe_client)."""

import pytest
from django.utils import timezone

from checkout import stripe_client


class FakeStripe:
    """Stripe's refund and session-expire calls, recorded; `fail` makes the next refund raise it.
    Sessions read as expired, or as `session_status` with `intent_status`, or complete and paid."""

    def __init__(self):
        self.refunds, self.expired, self.fail, self.session_paid = [], [], None, False
        self.session_status, self.intent_status = "expired", None

    def refund_create(self, *, payment_intent_id, amount, idempotency_key):
        self.refunds.append((payment_intent_id, amount, idempotency_key))
        if self.fail:
            error, self.fail = self.fail, None
            raise error
        return stripe_client.Refund(
            id=f"re_{idempotency_key}",
            amount=amount,
            currency="aed",
            status="succeeded",
            payment_intent_id=payment_intent_id,
        )

    def session(self, session_id, *, with_intent_status=False):
        paid = self.session_paid
        return stripe_client.CheckoutSession(
            id=session_id,
            url=None,
            status="complete" if paid else self.session_status,
            payment_status="paid" if paid else "unpaid",
            expires_at=timezone.now(),
            amount_total=640_00,
            currency="aed",
            payment_intent_id="pi_late" if paid else None,
            payment_intent_status=("succeeded" if paid else self.intent_status) if with_intent_status else None,
        )

    def checkout_session_expire(self, session_id):
        self.expired.append(session_id)
        return self.session(session_id)


@pytest.fixture
def stripe(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(stripe_client, "refund_create", fake.refund_create)
    monkeypatch.setattr(stripe_client, "checkout_session_expire", fake.checkout_session_expire)
    monkeypatch.setattr(stripe_client, "checkout_session_retrieve", fake.session)
    return fake
