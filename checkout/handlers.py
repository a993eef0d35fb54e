"""Stripe events from ingest's durable inbox: deduped by event id, then re-read from Stripe by a task."""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import transaction

from checkout.models import PaymentLink
from checkout.tasks import reconcile_payment
from waco.dispatch import send_task_or_log
from waco.ingest.models import DeliverySource
from waco.ingest.registry import HandlerOrder, register
from waco.ingest.services import register_parser

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class StripeWebhookEvent:
    kind: ClassVar[str] = "stripe_event"
    id: str
    type: str
    object_type: str = ""
    object_id: str = ""
    phone_number_id: None = None  # Stripe events belong to no WhatsApp number
    waba_id: None = None
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def dedupe_key(self) -> str:
        return f"stripe:{self.id}"


@dataclass(frozen=True, kw_only=True)
class StripeUnreadable:
    """A body that is not a Stripe event: kept with its raw value, handled by nobody."""

    kind: ClassVar[str] = "stripe_unreadable"
    dedupe_key: str
    phone_number_id: None = None
    waba_id: None = None
    raw: Any = None


def parse_stripe_body(body: str) -> list:
    """The stored body, signature already checked by the view, as one event."""
    try:
        data = json.loads(body)
        obj = data["data"]["object"]
        return [
            StripeWebhookEvent(
                id=str(data["id"]),
                type=str(data["type"]),
                object_type=str(obj.get("object", "")),
                object_id=str(obj.get("id", "")),
                raw=data,
            )
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return [StripeUnreadable(dedupe_key="stripe:unreadable:" + hashlib.sha256(body.encode()).hexdigest(), raw=body)]


register_parser(DeliverySource.STRIPE, parse_stripe_body)


@register("stripe_event", order=HandlerOrder.COMMERCE, needs_phone_number=False)
def stripe_event_rereads_its_session(event: StripeWebhookEvent, *, phone_number) -> None:
    if event.object_type != "checkout.session":
        return
    link = PaymentLink.objects.filter(stripe_session_id=event.object_id).first()
    if link is None:
        logger.info("Stripe event %s names session %s, which is not ours", event.id, event.object_id)
        return
    transaction.on_commit(lambda: send_task_or_log(reconcile_payment, link.pk, event.type))
