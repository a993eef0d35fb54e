"""What the merchant's systems hear of a failed message (waco.events): `message.failed`, written in
the transaction that marks it failed, wherever it fails (refused by the policy at enqueue or at
send, refused by Meta, failed by a status webhook, given up on by the sweep)."""

from collections.abc import Iterable
from datetime import datetime

from outbound.models import OutboundMessage
from waco.events.models import EventType
from waco.events.services import NewEvent, events_record


def message_failed_data(message: OutboundMessage) -> dict:
    return {
        "id": message.pk,
        "account": message.phone_number.business_account.waba_id,
        "from": message.phone_number.graph_id,
        "to": message.recipient,
        "category": message.category,
        "purpose": message.purpose,
        "subject": {"type": message.subject_type, "id": message.subject_id} if message.subject_type else None,
        "template": message.template_name or None,
        "error": {
            "code": message.error_code,
            "class": message.error_class or None,
            "detail": message.error_detail,
            "needs_person": message.needs_person,
        },
        "failed_at": message.failed_at,
    }


def messages_failed_report(messages: Iterable[OutboundMessage], *, now: datetime | None = None) -> None:
    """One event per message just failed (its fields as the caller wrote them), in a few queries
    however many; call inside the transaction that failed them."""
    events_record(
        [
            NewEvent(
                EventType.MESSAGE_FAILED,
                f"message:{message.pk}",
                message_failed_data(message),
                message.phone_number.business_account,
            )
            for message in sorted(messages, key=lambda message: message.pk)
        ],
        now=now,
    )
