"""Reads other apps make of the outbox."""

from django.db.models import Q, QuerySet

from outbound.models import OutboundMessage


def about(*, subject_type: str, subject_id: str | int) -> Q:
    """The messages about one subject, as a filter: exact on both, so a reference that starts
    another one's (W0000012, W00000123) never finds the other's messages."""
    return Q(subject_type=subject_type, subject_id=str(subject_id))


def messages_about(*, subject_type: str, subject_id: str | int) -> QuerySet[OutboundMessage]:
    """The messages a caller enqueued about one subject (an order by its reference, a thread by its id),
    oldest first. Exact match on both: one order's messages never show on another's page."""
    return OutboundMessage.objects.filter(about(subject_type=subject_type, subject_id=subject_id)).order_by(
        "created_at", "pk"
    )
