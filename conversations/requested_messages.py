"""Messages the storefront asked for (POST /messages) belong to the customer's thread too."""

from conversations.inbox import message_noted
from conversations.models import Direction, ThreadMessage
from conversations.services import thread_for


def api_message_queued(sender, *, message, text: str, **kwargs) -> None:
    """Keep the queued message in its thread, as staff and the CRM read the thread."""
    thread = thread_for(contact=message.contact, phone_number=message.phone_number)
    kept, created = ThreadMessage.objects.get_or_create(
        outbound=message,
        defaults={
            "thread": thread,
            "direction": Direction.OUTBOUND,
            "type": message.content.get("type", ""),
            "text": text[:4096],
            "payload": message.content,
            "sent_at": message.created_at,
        },
    )
    if created:
        message_noted(kept)
