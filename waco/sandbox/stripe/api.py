"""The sandbox Stripe's API operations, callable without HTTP: Checkout Sessions and refunds.

Each state change locks its row, checks the state, changes it and records
the event in one transaction, like the rest of the sandbox.
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from waco.sandbox.delivery import worker_wake
from waco.sandbox.models import (
    StripeChargeStatus,
    StripeCheckoutSession,
    StripePaymentIntent,
    StripePaymentIntentStatus,
    StripePaymentStatus,
    StripeRefund,
    StripeSessionStatus,
)
from waco.sandbox.stripe.errors import StripeApiError, invalid_param, resource_missing
from waco.sandbox.stripe.events import event_emit
from waco.sandbox.stripe.objects import new_id, refund_object, session_object
from waco.sandbox.stripe.params import as_int, as_list, as_metadata, as_str, required

# Stripe's bounds on expires_at, counted from the session's creation.
MIN_EXPIRY = timedelta(minutes=30)
MAX_EXPIRY = timedelta(hours=24)
SUPPORTED_MODES = ("payment",)
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _line_item(item, index: int) -> dict:
    param = f"line_items[{index}]"
    if not isinstance(item, dict):
        raise invalid_param(param, f"Invalid hash: {param}")
    if "price" in item:
        raise StripeApiError(f"No such price: '{item['price']}'", code="resource_missing", param=f"{param}[price]")
    price_data = required(item, "price_data", label=f"{param}[price_data]")
    product_data = required(price_data, "product_data", label=f"{param}[price_data][product_data]")
    name = as_str(required(product_data, "name", label=f"{param}[price_data][product_data][name]"), "name")
    currency = as_str(required(price_data, "currency", label=f"{param}[price_data][currency]"), "currency")
    unit_amount = as_int(
        required(price_data, "unit_amount", label=f"{param}[price_data][unit_amount]"),
        f"{param}[price_data][unit_amount]",
        minimum=0,
    )
    quantity = as_int(required(item, "quantity", label=f"{param}[quantity]"), f"{param}[quantity]", minimum=1)
    return {
        "name": name,
        "currency": currency.lower(),
        "unit_amount": unit_amount,
        "quantity": quantity,
        "amount_total": unit_amount * quantity,
    }


def _expires_at(value, now: datetime) -> datetime:
    if value in (None, ""):
        return now + MAX_EXPIRY
    expires_at = datetime.fromtimestamp(as_int(value, "expires_at"), tz=UTC)
    created = now.replace(microsecond=0)
    if expires_at < created + MIN_EXPIRY:
        raise invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            code="parameter_invalid_integer",
        )
    if expires_at > created + MAX_EXPIRY:
        raise invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            code="parameter_invalid_integer",
        )
    return expires_at


def _payment_method_types(value) -> list[str]:
    return [as_str(kind, "payment_method_types") for kind in as_list(value, "payment_method_types")]


def checkout_session_create(*, params: dict) -> StripeCheckoutSession:
    """POST /v1/checkout/sessions with Stripe's form parameters, already parsed."""
    now = timezone.now()
    mode = as_str(required(params, "mode"), "mode")
    if mode not in SUPPORTED_MODES:
        raise invalid_param("mode", f"The sandbox supports mode=payment only, not {mode!r}.")
    success_url = as_str(required(params, "success_url"), "success_url")
    raw_items = as_list(required(params, "line_items"), "line_items")
    items = [_line_item(item, index) for index, item in enumerate(raw_items)]
    currencies = {item["currency"] for item in items}
    if len(currencies) > 1:
        raise invalid_param("line_items", "All line items must use the same currency.")
    session = StripeCheckoutSession.objects.create(
        session_id=new_id("cs_test", 58),
        status=StripeSessionStatus.OPEN,
        payment_status=StripePaymentStatus.UNPAID,
        mode=mode,
        currency=currencies.pop(),
        amount_total=sum(item["amount_total"] for item in items),
        line_items=items,
        success_url=success_url,
        cancel_url=as_str(params.get("cancel_url", ""), "cancel_url"),
        client_reference_id=as_str(params.get("client_reference_id", ""), "client_reference_id", max_length=200),
        metadata=as_metadata(params.get("metadata")),
        payment_method_types=_payment_method_types(params.get("payment_method_types", ["card"])),
        expires_at=_expires_at(params.get("expires_at"), now),
        created_at=now,
    )
    # The delivery thread also runs the expiry sweep: make sure one is running.
    transaction.on_commit(worker_wake)
    return session


def _expire(session: StripeCheckoutSession, *, idempotency_key: str | None = None) -> None:
    session.status = StripeSessionStatus.EXPIRED
    session.save(update_fields=["status"])
    event_emit(type="checkout.session.expired", data_object=session_object(session), idempotency_key=idempotency_key)


def session_locked(session_id: str, *, expire_due: bool = True) -> StripeCheckoutSession:
    """The session row, locked. One past expires_at is expired first: Stripe never shows it open."""
    session = (
        StripeCheckoutSession.objects.select_for_update(of=("self",))
        .select_related("payment_intent")
        .filter(session_id=session_id)
        .first()
    )
    if session is None:
        raise resource_missing("checkout.session", session_id, param="session")
    if expire_due and session.status == StripeSessionStatus.OPEN and session.expires_at <= timezone.now():
        _expire(session)
    return session


def checkout_session_get(session_id: str) -> StripeCheckoutSession:
    with transaction.atomic():
        return session_locked(session_id)


def checkout_session_expire(*, session_id: str, idempotency_key: str | None = None) -> StripeCheckoutSession:
    """End an open session now; anything else is Stripe's 400."""
    with transaction.atomic():
        # Not expired first: an open session past its time is simply expired by this call.
        session = session_locked(session_id, expire_due=False)
        if session.status != StripeSessionStatus.OPEN:
            raise StripeApiError(
                f"Only Checkout Sessions with a status of `open` can be expired. This session has "
                f"a status of `{session.status}`."
            )
        _expire(session, idempotency_key=idempotency_key)
    return session


def sessions_expire_due(*, now: datetime | None = None) -> int:
    """Expire every open session past its expires_at, each with its event. Returns how many."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = (
            StripeCheckoutSession.objects.select_for_update(skip_locked=True)
            .filter(status=StripeSessionStatus.OPEN, expires_at__lte=now)
            .order_by("pk")
        )
        for session in due:
            _expire(session)
            expired += 1
    return expired


def refund_create(*, params: dict, idempotency_key: str | None = None) -> StripeRefund:
    """POST /v1/refunds: all of a payment, or `amount` of what is left of it."""
    intent_id = as_str(required(params, "payment_intent"), "payment_intent")
    reason = as_str(params.get("reason", ""), "reason")
    if reason and reason not in REFUND_REASONS:
        raise invalid_param("reason", f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}")
    metadata = as_metadata(params.get("metadata"))
    amount = params.get("amount")
    amount = None if amount in (None, "") else as_int(amount, "amount", minimum=1)
    with transaction.atomic():
        intent = StripePaymentIntent.objects.select_for_update().filter(intent_id=intent_id).first()
        if intent is None:
            raise resource_missing("payment_intent", intent_id, param="payment_intent")
        charge = intent.charges.filter(status=StripeChargeStatus.SUCCEEDED).first()
        if intent.status != StripePaymentIntentStatus.SUCCEEDED or charge is None:
            raise StripeApiError(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        refunded = intent.refunds.aggregate(total=Sum("amount"))["total"] or 0
        left = charge.amount - refunded
        if left == 0:
            raise StripeApiError(
                f"Charge {charge.charge_id} has already been refunded.", code="charge_already_refunded"
            )
        if amount is not None and amount > left:
            raise StripeApiError(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        refund = StripeRefund.objects.create(
            refund_id=new_id("re"),
            payment_intent=intent,
            charge=charge,
            amount=left if amount is None else amount,
            currency=charge.currency,
            reason=reason,
            metadata=metadata,
            created_at=timezone.now(),
        )
        charge.amount_refunded = refunded + refund.amount
        charge.save(update_fields=["amount_refunded"])
        event_emit(type="refund.created", data_object=refund_object(refund), idempotency_key=idempotency_key)
    return refund
