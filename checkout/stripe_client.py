"""The only Waco code that speaks to Stripe: a thin wrapper around stripe-python's StripeClient.

It points at settings.WACO_STRIPE_API_BASE (the sandbox in the demo and tests,
https://api.stripe.com in production: same code, other settings). It returns
small frozen values holding what Waco needs and nothing else: no card or
payment-method details ever leave this module, nor reach a log. Stripe's
errors become three kinds a caller can act on: transient (retry later),
permanent (our request is wrong, or the card is) and auth (alert staff).
"""

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import stripe
from django.conf import settings

# stripe-python retries connection errors, 409 and 5xx with backoff, reusing the
# request's idempotency key, so a retry never creates a second session or refund.
MAX_NETWORK_RETRIES = 2
# (connect, read) seconds; Stripe's own default of 80 s would stall a worker.
HTTP_TIMEOUT = (5.0, 30.0)


class StripeClientError(Exception):
    """A Stripe call failed. `code` is Stripe's error code when it gave one."""

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class StripeTransientError(StripeClientError):
    """Connection error, 5xx, rate limit or a concurrent request: retry later with the same key."""


class StripePermanentError(StripeClientError):
    """Invalid request, declined card or a reused idempotency key: the same call fails again."""


class StripeAuthError(StripeClientError):
    """The secret key is wrong or lacks permission: alert staff, do not retry."""


class StripeSignatureError(StripeClientError):
    """A webhook whose Stripe-Signature does not verify (or whose body is not an event)."""


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount: int  # minor units
    quantity: int


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None  # only while the session is open
    status: str  # open / complete / expired
    payment_status: str  # unpaid / paid / no_payment_required
    expires_at: datetime
    amount_total: int
    currency: str
    payment_intent_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    payment_intent_status: str | None = None  # only when retrieved with_intent_status


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str
    payment_intent_id: str


@dataclass(frozen=True)
class StripeEvent:
    """What Waco needs of an event: which object changed. Money is re-read from Stripe."""

    id: str
    type: str
    created: datetime
    object_type: str
    object_id: str
    session: CheckoutSession | None = None  # when the object is a checkout.session


_clients: dict[tuple, tuple[stripe.StripeClient, stripe.RequestsClient]] = {}
_clients_lock = threading.Lock()


def _client() -> stripe.StripeClient:
    """One client per key and base (settings may change in tests), keeping its connections."""
    signature = (settings.WACO_STRIPE_SECRET_KEY, settings.WACO_STRIPE_API_BASE)
    with _clients_lock:
        if signature not in _clients:
            http_client = stripe.RequestsClient(timeout=HTTP_TIMEOUT)
            client = stripe.StripeClient(
                api_key=settings.WACO_STRIPE_SECRET_KEY,
                base_addresses={"api": settings.WACO_STRIPE_API_BASE},
                max_network_retries=MAX_NETWORK_RETRIES,
                http_client=http_client,
            )
            _clients[signature] = (client, http_client)
        return _clients[signature][0]


def stripe_clients_close() -> None:
    """Drop this thread's kept-alive connections (tests: they would pin a live server's thread)."""
    with _clients_lock:
        for _, http_client in _clients.values():
            http_client.close()
        _clients.clear()


@contextmanager
def _translated_errors():
    try:
        yield
    except stripe.AuthenticationError as exc:
        raise StripeAuthError("Stripe refused the API key", http_status=exc.http_status) from None
    except stripe.PermissionError as exc:
        raise StripeAuthError("The API key lacks permission", http_status=exc.http_status) from None
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise StripeTransientError(_describe(exc), code=exc.code, http_status=exc.http_status) from None
    except (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError) as exc:
        raise StripePermanentError(_describe(exc), code=exc.code, http_status=exc.http_status) from None
    except stripe.StripeError as exc:
        # APIError: 5xx, or 409 for a request racing another with the same idempotency key.
        raise StripeTransientError(_describe(exc), code=exc.code, http_status=exc.http_status) from None


def _describe(exc: stripe.StripeError) -> str:
    # Only Stripe's own message and code, never the request or response bodies.
    return f"{type(exc).__name__}: {exc.user_message or 'no message'}"


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _session(obj) -> CheckoutSession:
    intent = obj.get("payment_intent")
    expanded = intent is not None and not isinstance(intent, str)
    return CheckoutSession(
        id=obj["id"],
        url=obj.get("url"),
        status=obj["status"],
        payment_status=obj["payment_status"],
        expires_at=_moment(obj["expires_at"]),
        amount_total=obj["amount_total"],
        currency=obj["currency"],
        # The intent is expanded only to read its status; its charge (which carries card details) never is.
        payment_intent_id=intent["id"] if expanded else intent,
        metadata=dict(obj.get("metadata") or {}),
        payment_intent_status=intent["status"] if expanded else None,
    )


def checkout_session_create(
    *,
    order_ref: str,
    line_items: Sequence[LineItem],
    currency: str,
    expires_at: datetime,
    idempotency_key: str,
    success_url: str,
    cancel_url: str,
    metadata: Mapping[str, str] | None = None,
) -> CheckoutSession:
    """A Checkout Session for one order attempt; the same key returns the same session."""
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": item.unit_amount,
                    "product_data": {"name": item.name},
                },
                "quantity": item.quantity,
            }
            for item in line_items
        ],
        "expires_at": int(expires_at.timestamp()),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": order_ref,
        "metadata": {**(metadata or {}), "order_id": order_ref},
        "payment_method_types": ["card"],
    }
    with _translated_errors():
        session = _client().v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})
    return _session(session)


def checkout_session_retrieve(session_id: str, *, with_intent_status: bool = False) -> CheckoutSession:
    """The session as Stripe has it now; `with_intent_status` also reads its payment intent's status
    (canceled, or requires_payment_method after a failed payment)."""
    params = {"expand": ["payment_intent"]} if with_intent_status else {}
    with _translated_errors():
        return _session(_client().v1.checkout.sessions.retrieve(session_id, params))


def checkout_session_expire(session_id: str) -> CheckoutSession:
    """End an open session. One already complete or expired is an answer, not an error:
    the session as it is now is returned, and the caller reads its status."""
    try:
        with _translated_errors():
            return _session(_client().v1.checkout.sessions.expire(session_id))
    except StripePermanentError:
        session = checkout_session_retrieve(session_id)
        if session.status == "open":
            raise
        return session


def refund_create(*, payment_intent_id: str, amount: int | None, idempotency_key: str) -> Refund:
    """Refund `amount` (minor units) of a payment, or all that is left of it when None."""
    params = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    with _translated_errors():
        refund = _client().v1.refunds.create(params, {"idempotency_key": idempotency_key})
    return Refund(
        id=refund["id"],
        amount=refund["amount"],
        currency=refund["currency"],
        status=refund["status"],
        payment_intent_id=refund["payment_intent"],
    )


def _event(event) -> StripeEvent:
    obj = event["data"]["object"]
    object_type = obj.get("object", "")
    return StripeEvent(
        id=event["id"],
        type=event["type"],
        created=_moment(event["created"]),
        object_type=object_type,
        object_id=obj.get("id", ""),
        session=_session(obj) if object_type == "checkout.session" else None,
    )


def events_undelivered(*, since: datetime) -> Iterator[StripeEvent]:
    """Events created since `since` that Stripe could not deliver to our webhook (or still tries to)."""
    params = {"delivery_success": False, "created": {"gte": int(since.timestamp())}, "limit": 100}
    with _translated_errors():
        page = _client().v1.events.list(params)
        for event in page.auto_paging_iter():
            yield _event(event)


def event_construct(payload: bytes, sig_header: str) -> StripeEvent:
    """Verify a webhook's Stripe-Signature (HMAC-SHA256, 300 s tolerance) and read the event.

    Any of settings.WACO_STRIPE_WEBHOOK_SECRETS verifies: during a rotation Stripe signs with the
    new secret while the old one is still listed."""
    event = None
    try:
        for secret in settings.WACO_STRIPE_WEBHOOK_SECRETS:
            try:
                event = _client().construct_event(payload, sig_header, secret)
                break
            except stripe.SignatureVerificationError:
                continue
    except (ValueError, KeyError):
        raise StripeSignatureError("The body is not a Stripe event") from None
    if event is None:
        raise StripeSignatureError("Stripe-Signature does not verify")
    try:
        return _event(event)
    except (KeyError, TypeError, AttributeError):
        raise StripeSignatureError("The body is not a Stripe event") from None
