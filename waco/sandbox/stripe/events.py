"""Stripe events: kept for listing, delivered signed to Waco's Stripe webhook, with faults.

The sandbox's one webhook endpoint is subscribed to the events Waco's
endpoint should be subscribed to in Stripe's dashboard: checkout.session.*
and refund.*. (charge.* and payment_intent.* events carry payment-method
details, which Waco must never store.)

Deliveries go through the sandbox's webhook outbox (waco.sandbox.delivery):
signed at each attempt, retried with backoff. Whether an event reached Waco
is read from its delivery rows, so a dropped event (no row) or one still
failing shows up in GET /v1/events?delivery_success=false, as on Stripe.
"""

from datetime import UTC, datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from waco.sandbox.config import Config, config_get
from waco.sandbox.delivery import delivery_enqueue
from waco.sandbox.faults import fault_roll
from waco.sandbox.models import Delivery, DeliveryKind, StripeEvent
from waco.sandbox.stripe.errors import invalid_param, resource_missing
from waco.sandbox.stripe.objects import API_VERSION, new_id, timestamp
from waco.sandbox.stripe.params import as_int

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
_RANGE_OPERATORS = ("gt", "gte", "lt", "lte")


def fault_applies(config: Config, fault: str, event_type: str) -> bool:
    """Whether a Stripe event is dropped, duplicated or reordered: by its type if a list
    names types, else for the configured share of events."""
    rule = config["stripe_faults"][fault]
    if isinstance(rule, list):
        return event_type in rule
    return fault_roll(config, f"stripe_{fault}", rule)


def event_emit(*, type: str, data_object: dict, idempotency_key: str | None = None) -> StripeEvent:
    """Record an event and enqueue its delivery, unless a configured fault drops it.

    Call inside the transaction that changed the object: the event and its
    delivery commit with it, and the delivery worker is woken after commit.
    """
    now = timezone.now()
    event_id = new_id("evt")
    body = {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": timestamp(now),
        "data": {"object": data_object},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": idempotency_key},
        "type": type,
    }
    event = StripeEvent.objects.create(event_id=event_id, type=type, body=body, created_at=now)
    config = config_get()
    if fault_applies(config, "drop", type):
        return event
    held = fault_applies(config, "reorder", type)
    delay = config["reorder_delay_ms"] / 1000 if held else 0.0
    copies = 2 if fault_applies(config, "duplicate", type) else 1
    for _ in range(copies):
        delivery_enqueue(kind=DeliveryKind.STRIPE_EVENT, body=body, ref=event_id, delay_seconds=delay)
    return event


def _with_delivery_success(queryset):
    delivered = Delivery.objects.filter(
        kind=DeliveryKind.STRIPE_EVENT, ref=OuterRef("event_id"), delivered_at__isnull=False
    )
    return queryset.annotate(delivered=Exists(delivered))


def event_object(event: StripeEvent) -> dict:
    """The event as listed: pending_webhooks is 0 once it reached Waco's endpoint."""
    delivered = getattr(event, "delivered", None)
    if delivered is None:
        delivered = _with_delivery_success(StripeEvent.objects.filter(pk=event.pk)).get().delivered
    return {**event.body, "pending_webhooks": 0 if delivered else 1}


def event_get(event_id: str) -> StripeEvent:
    event = _with_delivery_success(StripeEvent.objects.filter(event_id=event_id)).first()
    if event is None:
        raise resource_missing("event", event_id)
    return event


def _type_filter(pattern: str) -> Q:
    # Stripe's `type` takes one name or a group with a trailing wildcard: checkout.session.*
    if pattern.endswith("*"):
        return Q(type__startswith=pattern[:-1])
    return Q(type=pattern)


def _created_filter(created) -> Q:
    if isinstance(created, dict):
        query = Q()
        for operator, value in created.items():
            if operator not in _RANGE_OPERATORS:
                param = f"created[{operator}]"
                raise invalid_param(param, f"Received unknown parameter: {param}")
            moment = _moment(value, f"created[{operator}]")
            query &= Q(**{f"created_at__{operator}": moment})
        return query
    return Q(created_at__gte=_moment(created, "created"), created_at__lt=_moment(created, "created", plus=1))


def _moment(value, param: str, *, plus: int = 0) -> datetime:
    return datetime.fromtimestamp(as_int(value, param) + plus, tz=UTC)


def events_list(
    *,
    type: str | None = None,
    types: list[str] | None = None,
    delivery_success: bool | None = None,
    created=None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> tuple[list[StripeEvent], bool]:
    """A page of events, newest first like Stripe, and whether there are more."""
    if type and types:
        raise invalid_param("types", "You may pass either `type` or `types`, but not both.")
    events = _with_delivery_success(StripeEvent.objects.all())
    if type:
        events = events.filter(_type_filter(type))
    if types:
        query = Q()
        for pattern in types:
            query |= _type_filter(pattern)
        events = events.filter(query)
    if delivery_success is not None:
        events = events.filter(delivered=delivery_success)
    if created is not None:
        events = events.filter(_created_filter(created))
    if ending_before:
        cursor = _cursor(ending_before, "ending_before")
        newer = Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, pk__gt=cursor.pk)
        page = list(events.filter(newer).order_by("created_at", "pk")[: limit + 1])
        return list(reversed(page[:limit])), len(page) > limit
    if starting_after:
        cursor = _cursor(starting_after, "starting_after")
        older = Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk)
        events = events.filter(older)
    page = list(events.order_by("-created_at", "-pk")[: limit + 1])
    return page[:limit], len(page) > limit


def _cursor(event_id: str, param: str) -> StripeEvent:
    cursor = StripeEvent.objects.filter(event_id=event_id).first()
    if cursor is None:
        raise resource_missing("event", event_id, param=param)
    return cursor
