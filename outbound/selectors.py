"""Reads other apps make of the outbox."""

from django.db.models import QuerySet

from outbound.models import OutboundMessage


def messages_about(*, subject_type: str, subject_id: str | int) -> QuerySet[OutboundMessage]:
    """The messages a caller enqueued about one subject (an order by its reference, a thread by its id),
    oldest first. Exact match on both: one order's messages never show on another's page."""
    return OutboundMessage.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).order_by(
        "created_at", "pk"
    )
