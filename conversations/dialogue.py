"""The dialogue: one inbound message -> at most one transition and its replies.

Runs inside the webhook event's transaction (ingest applies handlers there), so
the dedupe key, the thread's message, the transition and the queued replies
commit together or not at all. The thread row is locked for the whole turn, so
two messages of one customer are handled one after the other.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from conversations import replies, services
from conversations.actions import ACTIONS, record_consent, unknown
from conversations.intents import request_from
from conversations.media import media_download_enqueue
from conversations.models import (
    CART_STATES,
    CartLine,
    Direction,
    InboundMedia,
    ThreadMessage,
    ThreadState,
    TransitionCause,
)
from conversations.turn import Turn
from outbound import read_receipts
from waco.channels.models import PhoneNumber
from waco.cloud_api import messages as m
from waco.contacts import services as contacts
from waco.contacts.models import SERVICE_WINDOW

# Requests that still make sense after the window closed; anything else first sees the kept cart.
FRESH_REQUESTS = frozenset({"order", "stop", "agent", "consent_yes", "consent_no", "product_question"})


def message_handle(*, event, phone_number: PhoneNumber, now: datetime | None = None) -> None:
    """Record the customer's message, mark it read, and answer it (unless a person has the thread)."""
    now = now or timezone.now()
    # The contacts handler, earlier in this transaction, created and linked the contact.
    contact = contacts.contact_find(wa_id=event.sender.wa_id, user_id=event.sender.user_id)
    if contact is None:
        return
    thread = services.thread_locked(contact=contact, phone_number=phone_number)
    at = event.timestamp or now
    previous_inbound = (
        ThreadMessage.objects.filter(thread=thread, direction=Direction.INBOUND)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    recorded = services.thread_message_record_inbound(
        thread=thread,
        wamid=event.message_id,
        type=event.type or "",
        text=inbound_text(event.content),
        payload=event.raw or {},
        sent_at=at,
    )
    if recorded is None:  # the same wamid under another delivery: already answered
        return
    if isinstance(event.content, m.MediaContent) and event.content.media_id:
        _media_record(recorded, event.content)
    request = request_from(event)
    if request.name == "silent":
        return
    _mark_read_on_commit(phone_number, event.message_id)
    turn = Turn(thread=thread, request=request, wamid=event.message_id, at=at, event=event)
    if thread.state == ThreadState.HANDOFF:
        if request.name in ("stop", "consent_yes", "consent_no"):
            record_consent(turn, granted=request.name == "consent_yes")  # staff see it; the bot stays quiet
        return
    if not contacts.window_is_open(contact=contact, phone_number=phone_number, now=now):
        return  # handled too late to reply free-form; the message is kept for staff
    if previous_inbound and at - previous_inbound > SERVICE_WINDOW:
        if thread.state in CART_STATES:  # beat's expiry job may have done this already
            turn.move("expire_window", cause=TransitionCause.WINDOW)
        kept_cart = CartLine.objects.filter(cart__thread=thread).exists()
        if kept_cart and request.name not in FRESH_REQUESTS:
            turn.show_cart(build=replies.window_reopened)
            return
    ACTIONS.get(request.name, unknown)(turn)


def inbound_text(content) -> str:
    """What staff read for a customer's message."""
    if isinstance(content, m.TextContent):
        return content.body
    if isinstance(content, (m.ButtonReplyContent, m.ListReplyContent)):
        return f"[tapped] {content.title or content.reply_id or ''}"
    if isinstance(content, m.ButtonContent):
        return f"[tapped] {content.text or content.payload or ''}"
    if isinstance(content, m.OrderContent):
        count = sum(item.quantity or 1 for item in content.product_items)
        return f"[catalog order: {count} item(s)] {content.text or ''}".strip()
    if isinstance(content, m.MediaContent):
        return f"[{content.type}] {content.caption or ''}".strip()
    if isinstance(content, m.LocationContent):
        return f"[location] {content.name or ''} {content.address or ''}".strip()
    if isinstance(content, m.ReactionContent):
        return f"[reaction] {content.emoji or '(removed)'}"
    return f"[{content.type}]"


def _media_record(message: ThreadMessage, content: m.MediaContent) -> None:
    media = InboundMedia.objects.create(
        message=message,
        media_id=content.media_id,
        declared_mime_type=content.mime_type or "",
        declared_sha256=content.sha256 or "",
    )
    media_download_enqueue(media)


def _mark_read_on_commit(phone_number: PhoneNumber, wamid: str) -> None:
    """Owed once the turn commits; sent with the rest of the drain's batch (outbound.read_receipts)."""
    transaction.on_commit(lambda: read_receipts.receipt_owe(phone_number_id=phone_number.pk, wamid=wamid))
