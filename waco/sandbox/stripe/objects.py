"""Stripe's object shapes (API reference, version below) built from the sandbox's rows.

Only the fields a Checkout integration reads are filled; the rest of
Stripe's fields are left out rather than invented.
"""

import hashlib
import secrets
import string

from django.urls import reverse

from waco.sandbox.models import (
    StripeCharge,
    StripeChargeStatus,
    StripeCheckoutSession,
    StripePaymentIntent,
    StripeRefund,
    StripeSessionStatus,
)

API_VERSION = "2025-08-27.basil"
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Stripe-looking ids: cs_test_..., pi_..., ch_..., re_..., evt_..., pm_..."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def timestamp(moment) -> int:
    return int(moment.timestamp())


def fingerprint(number: str) -> str:
    """Like Stripe's: the same card number always gives the same fingerprint."""
    return hashlib.sha256(f"sandbox-card:{number}".encode()).hexdigest()[:16]


def card_details(*, number: str, brand: str, exp_year: int) -> dict:
    """payment_method_details of a card charge, as Stripe reports it."""
    return {
        "type": "card",
        "card": {
            "brand": brand,
            "country": "US",
            "exp_month": 12,
            "exp_year": exp_year,
            "fingerprint": fingerprint(number),
            "funding": "credit",
            "last4": number[-4:],
            "network": brand,
            "checks": {"address_postal_code_check": None, "cvc_check": "pass"},
        },
    }


def sepa_debit_details(*, iban: str) -> dict:
    """payment_method_details of a SEPA Direct Debit: a method that settles days later."""
    return {
        "type": "sepa_debit",
        "sepa_debit": {
            "bank_code": iban[4:12],
            "branch_code": "",
            "country": iban[:2],
            "fingerprint": fingerprint(iban),
            "last4": iban[-4:],
            "mandate": new_id("mandate"),
        },
    }


def checkout_page_url(session: StripeCheckoutSession, host: str) -> str:
    return host + reverse("sandbox:stripe-checkout-page", args=[session.session_id])


def session_object(session: StripeCheckoutSession, *, host: str = "", expand: frozenset = frozenset()) -> dict:
    intent = session.payment_intent
    expand_charge = "payment_intent.latest_charge" in expand  # implies expanding the intent, as on Stripe
    if intent is not None and ("payment_intent" in expand or expand_charge):
        intent_value = payment_intent_object(intent, expand_charge=expand_charge)
    else:
        intent_value = intent.intent_id if intent is not None else None
    is_open = session.status == StripeSessionStatus.OPEN
    return {
        "id": session.session_id,
        "object": "checkout.session",
        "amount_subtotal": session.amount_total,
        "amount_total": session.amount_total,
        "cancel_url": session.cancel_url or None,
        "client_reference_id": session.client_reference_id or None,
        "created": timestamp(session.created_at),
        "currency": session.currency,
        "customer": None,
        "expires_at": timestamp(session.expires_at),
        "livemode": False,
        "metadata": session.metadata,
        "mode": session.mode,
        "payment_intent": intent_value,
        "payment_method_types": session.payment_method_types,
        "payment_status": session.payment_status,
        "status": session.status,
        "success_url": session.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        # Stripe sets url only while the session can still be paid.
        "url": checkout_page_url(session, host) if is_open and host else None,
    }


def payment_intent_object(intent: StripePaymentIntent, *, expand_charge: bool = False) -> dict:
    charge = intent.charges.order_by("-created_at", "-id").first()
    if charge is None:
        latest_charge = None
    else:
        latest_charge = charge_object(charge) if expand_charge else charge.charge_id
    last_error = None
    if intent.last_error_code and charge is not None:
        last_error = {"type": "card_error", "code": intent.last_error_code, "message": charge.failure_message}
    received = intent.amount if intent.status == "succeeded" else 0
    return {
        "id": intent.intent_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_received": received,
        "created": timestamp(intent.created_at),
        "currency": intent.currency,
        "last_payment_error": last_error,
        "latest_charge": latest_charge,
        "livemode": False,
        "metadata": intent.metadata,
        "payment_method": charge.payment_method_id if charge is not None else None,
        "status": intent.status,
    }


def charge_object(charge: StripeCharge) -> dict:
    return {
        "id": charge.charge_id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount if charge.status == StripeChargeStatus.SUCCEEDED else 0,
        "amount_refunded": charge.amount_refunded,
        "captured": charge.status == StripeChargeStatus.SUCCEEDED,
        "created": timestamp(charge.created_at),
        "currency": charge.currency,
        "failure_code": charge.failure_code or None,
        "failure_message": charge.failure_message or None,
        "livemode": False,
        "paid": charge.status == StripeChargeStatus.SUCCEEDED,
        "payment_intent": charge.payment_intent.intent_id,
        "payment_method": charge.payment_method_id,
        "payment_method_details": charge.payment_method_details,
        "refunded": charge.amount_refunded == charge.amount,
        "status": charge.status,
    }


def refund_object(refund: StripeRefund) -> dict:
    return {
        "id": refund.refund_id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": None,
        "charge": refund.charge.charge_id,
        "created": timestamp(refund.created_at),
        "currency": refund.currency,
        "metadata": refund.metadata,
        "payment_intent": refund.payment_intent.intent_id,
        "reason": refund.reason or None,
        "status": "succeeded",
    }
