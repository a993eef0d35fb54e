"""What the customer does on the hosted checkout page: pay, be declined, pay late, or leave.

Stripe's test cards stand in for the customer's card: 4242 4242 4242 4242
succeeds, 4000 0000 0000 0002 is declined. A declined card leaves the session
open for another try (Checkout sends no session event for it); a delayed
method (SEPA Direct Debit) completes the session unpaid and settles later
with checkout.session.async_payment_succeeded or ..._failed.
"""

from django.db import transaction
from django.utils import timezone

from waco.sandbox.models import (
    StripeCharge,
    StripeChargeStatus,
    StripeCheckoutSession,
    StripePaymentIntent,
    StripePaymentIntentStatus,
    StripePaymentStatus,
    StripeSessionStatus,
)
from waco.sandbox.stripe.api import checkout_session_expire, session_locked
from waco.sandbox.stripe.errors import StripeApiError
from waco.sandbox.stripe.events import event_emit
from waco.sandbox.stripe.objects import card_details, new_id, sepa_debit_details, session_object

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
# Stripe's SEPA test IBAN that settles successfully; the page decides the outcome instead.
SEPA_IBAN = "DE89370400440532013000"
DECLINE_MESSAGE = "Your card was declined."


class PaymentRefused(Exception):
    """The session cannot take this action now (already paid, expired, not delayed)."""


def _open_session(session_id: str) -> StripeCheckoutSession:
    session = session_locked(session_id)
    if session.status != StripeSessionStatus.OPEN:
        raise PaymentRefused(f"This Checkout Session is {session.status}.")
    return session


def _intent_for(session: StripeCheckoutSession) -> StripePaymentIntent:
    """The session's PaymentIntent, created at the first confirmation (as Checkout does)."""
    if session.payment_intent is None:
        session.payment_intent = StripePaymentIntent.objects.create(
            intent_id=new_id("pi"),
            amount=session.amount_total,
            currency=session.currency,
            status=StripePaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
            metadata={},
            created_at=timezone.now(),
        )
        session.save(update_fields=["payment_intent"])
    return session.payment_intent


def _charge(intent: StripePaymentIntent, *, status: str, details: dict, failure: str = "") -> StripeCharge:
    return StripeCharge.objects.create(
        charge_id=new_id("ch"),
        payment_intent=intent,
        amount=intent.amount,
        currency=intent.currency,
        status=status,
        payment_method_id=new_id("pm"),
        payment_method_details=details,
        failure_code="card_declined" if failure else "",
        failure_message=failure,
        created_at=timezone.now(),
    )


def _card(number: str) -> dict:
    return card_details(number=number, brand="visa", exp_year=timezone.now().year + 3)


def session_pay_card(*, session_id: str) -> StripeCheckoutSession:
    """The card succeeds: complete and paid, checkout.session.completed."""
    with transaction.atomic():
        session = _open_session(session_id)
        if session.amount_total == 0:
            session.payment_status = StripePaymentStatus.NO_PAYMENT_REQUIRED
        else:
            intent = _intent_for(session)
            _charge(intent, status=StripeChargeStatus.SUCCEEDED, details=_card(CARD_SUCCEEDS))
            intent.status = StripePaymentIntentStatus.SUCCEEDED
            intent.last_error_code = ""
            intent.save(update_fields=["status", "last_error_code"])
            session.payment_status = StripePaymentStatus.PAID
        session.status = StripeSessionStatus.COMPLETE
        session.save(update_fields=["status", "payment_status"])
        event_emit(type="checkout.session.completed", data_object=session_object(session))
    return session


def session_pay_declined(*, session_id: str) -> StripeCheckoutSession:
    """The card is declined: the session stays open for another try, and no session event is sent."""
    with transaction.atomic():
        session = _open_session(session_id)
        intent = _intent_for(session)
        declined = _card(CARD_DECLINED)
        _charge(intent, status=StripeChargeStatus.FAILED, details=declined, failure=DECLINE_MESSAGE)
        intent.last_error_code = "card_declined"
        intent.save(update_fields=["last_error_code"])
    return session


def session_pay_delayed(*, session_id: str) -> StripeCheckoutSession:
    """A SEPA debit is submitted: complete but unpaid until it settles."""
    with transaction.atomic():
        session = _open_session(session_id)
        if session.amount_total == 0:
            raise PaymentRefused("A free order needs no payment method.")
        intent = _intent_for(session)
        _charge(intent, status=StripeChargeStatus.PENDING, details=sepa_debit_details(iban=SEPA_IBAN))
        intent.status = StripePaymentIntentStatus.PROCESSING
        intent.save(update_fields=["status"])
        session.status = StripeSessionStatus.COMPLETE
        session.save(update_fields=["status"])
        event_emit(type="checkout.session.completed", data_object=session_object(session))
    return session


def session_delayed_settle(*, session_id: str, succeeded: bool) -> StripeCheckoutSession:
    """The delayed payment settles: paid with async_payment_succeeded, or async_payment_failed."""
    with transaction.atomic():
        session = session_locked(session_id)
        intent = session.payment_intent
        if intent is None or intent.status != StripePaymentIntentStatus.PROCESSING:
            raise PaymentRefused("No delayed payment is waiting to settle on this session.")
        charge = intent.charges.get(status=StripeChargeStatus.PENDING)
        if succeeded:
            charge.status, intent.status = StripeChargeStatus.SUCCEEDED, StripePaymentIntentStatus.SUCCEEDED
            session.payment_status = StripePaymentStatus.PAID
            event_type = "checkout.session.async_payment_succeeded"
        else:
            charge.status = StripeChargeStatus.FAILED
            charge.failure_code, charge.failure_message = "insufficient_funds", "The debit was returned."
            intent.status = StripePaymentIntentStatus.REQUIRES_PAYMENT_METHOD
            event_type = "checkout.session.async_payment_failed"
        charge.save()
        intent.save(update_fields=["status"])
        session.save(update_fields=["payment_status"])
        event_emit(type=event_type, data_object=session_object(session))
    return session


def session_leave(*, session_id: str) -> StripeCheckoutSession:
    """ "Let it expire": the session ends now, as if expires_at had passed."""
    try:
        return checkout_session_expire(session_id=session_id)
    except StripeApiError as exc:
        raise PaymentRefused(exc.message) from None
