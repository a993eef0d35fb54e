"""Thread operations, callable without HTTP or Celery."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from checkout.signals import ORDER_SUBJECT
from conversations.inbox import message_noted
from conversations.models import Direction, Thread, ThreadMessage, ThreadTransition
from conversations.signals import inbound_message_recorded
from outbound import services as outbound
from outbound.models import MessageCategory, OutboundMedia, OutboundMessage
from waco.channels.models import PhoneNumber
from waco.contacts.models import Contact
from waco.events.models import EventType
from waco.events.services import event_record
from waco.transitions import transition_apply

# The purpose of the bot's and staff's free-form replies (no template chain: replies go in the window).
REPLY_PURPOSE = "reply"
# Outbound subjects this app names (outbound.selectors.messages_about): a reply is about its
# thread unless the caller says otherwise; a recovery message about its cart. Orders' messages
# carry checkout.signals.ORDER_SUBJECT.
THREAD_SUBJECT = "thread"
CART_SUBJECT = "cart"

# The transitions a service may ask for, by name: one explicit list, no getattr on input.
TRANSITIONS = {
    "start_cart": Thread.start_cart,
    "empty_cart": Thread.empty_cart,
    "request_payment": Thread.request_payment,
    "return_to_cart": Thread.return_to_cart,
    "mark_paid": Thread.mark_paid,
    "close_order": Thread.close_order,
    "expire_window": Thread.expire_window,
    "hand_to_person": Thread.hand_to_person,
    "hand_back": Thread.hand_back,
}


class ThreadTransitionRefused(Exception):
    """The transition does not fit the thread's state; nothing changed."""


def thread_for(*, contact: Contact, phone_number: PhoneNumber) -> Thread:
    """The thread of this customer with this number, created on first contact."""
    return _thread_get_or_create(Thread.objects.all(), contact=contact, phone_number=phone_number)


def thread_locked(*, contact: Contact, phone_number: PhoneNumber) -> Thread:
    """The thread, row-locked for the caller's transaction (created on first contact).

    The lock serialises everything that speaks in one thread: the dialogue's
    turn and the replies to checkout's events.
    """
    threads = Thread.objects.select_for_update().select_related("contact", "phone_number__business_account")
    return _thread_get_or_create(threads, contact=contact, phone_number=phone_number)


def _thread_get_or_create(threads, *, contact: Contact, phone_number: PhoneNumber) -> Thread:
    """One query for a known customer. For a new one, an INSERT that yields to a concurrent
    worker's (ON CONFLICT DO NOTHING: no savepoint), then the same read again."""
    thread = threads.filter(contact=contact, phone_number=phone_number).first()
    if thread is None:
        Thread.objects.bulk_create([Thread(contact=contact, phone_number=phone_number)], ignore_conflicts=True)
        thread = threads.get(contact=contact, phone_number=phone_number)
    return thread


@transaction.atomic
def thread_transition(
    *, thread: Thread, name: str, cause: str, detail: str = "", actor=None, now: datetime | None = None
) -> Thread:
    """Lock the thread, apply one transition and record it (`actor`: the staff user who asked, if one did);
    refused transitions change nothing."""
    if name not in TRANSITIONS:
        raise ThreadTransitionRefused(f"no transition named {name!r}")
    locked = Thread.objects.select_for_update().get(pk=thread.pk)
    try:
        transition_apply(
            locked,
            transition=TRANSITIONS[name],
            history="transitions",
            cause=cause,
            detail=detail,
            actor=actor,
            now=now,
        )
    except TransitionNotAllowed as exc:
        raise ThreadTransitionRefused(f"{name} is not allowed from {locked.state}") from exc
    if name == "hand_to_person":
        _handoff_requested_record(locked, cause=cause, detail=detail, now=now)
    return locked


def _handoff_requested_record(thread: Thread, *, cause: str, detail: str, now: datetime | None) -> None:
    """The merchant's systems hear that a person is wanted (a CRM may route it), in the change's transaction."""
    number = thread.phone_number
    data = {
        "thread": thread.pk,
        "account": number.business_account.waba_id,
        "phone_number": number.graph_id,
        "contact": {"id": thread.contact_id, "wa_id": thread.contact.wa_id, "user_id": thread.contact.user_id},
        "cause": cause,
        "detail": detail or None,
    }
    event_record(
        EventType.THREAD_HANDOFF_REQUESTED,
        f"thread:{thread.pk}",
        data,
        business_account=number.business_account,
        now=now,
    )


def threads_move_to_survivor(sender, *, survivor: Contact, merged_id: int, **kwargs) -> None:
    """contacts merged two records of one person: their threads become one per number."""
    for thread in Thread.objects.filter(contact_id=merged_id):
        kept = Thread.objects.filter(contact=survivor, phone_number_id=thread.phone_number_id).first()
        if kept is None:
            thread.contact = survivor
            thread.save(update_fields=["contact", "updated_at"])
        else:
            ThreadTransition.objects.filter(thread=thread).update(thread=kept)
            thread.delete()


# --- messages -------------------------------------------------------------------------


def thread_message_record_inbound(
    *, thread: Thread, wamid: str, type: str, text: str, payload: dict, sent_at: datetime
) -> ThreadMessage | None:
    """Keep a customer's message with Meta's id and time; None when it is already kept."""
    try:
        with transaction.atomic():
            message = ThreadMessage.objects.create(
                wamid=wamid,
                thread=thread,
                direction=Direction.INBOUND,
                type=type,
                text=text[:4096],
                payload=payload or {},
                sent_at=sent_at,
            )
    except IntegrityError:
        if ThreadMessage.objects.filter(wamid=wamid).exists():
            return None
        raise
    message_noted(message)  # the staff inbox reads the thread row
    inbound_message_recorded.send(sender=ThreadMessage, message=message)
    return message


def order_reply(
    *,
    thread: Thread,
    order,
    reply,
    purpose: str,
    dedupe_key: str,
    template_params: dict | None = None,
    category: str = MessageCategory.UTILITY,
    now: datetime | None = None,
) -> OutboundMessage:
    """A message about an order (utility unless said otherwise): its subject is the order's reference."""
    return thread_reply(
        thread=thread,
        content=reply.content,
        text=reply.text,
        category=category,
        purpose=purpose,
        template_params=template_params,
        dedupe_key=dedupe_key,
        subject_type=ORDER_SUBJECT,
        subject_id=order.reference,
        now=now,
    )


def thread_reply(
    *,
    thread: Thread,
    content: dict,
    text: str,
    category: str = MessageCategory.SERVICE,
    purpose: str = REPLY_PURPOSE,
    template_params: dict | None = None,
    staff_user=None,
    dedupe_key: str | None = None,
    subject_type: str = "",
    subject_id: str | int = "",
    media: OutboundMedia | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """Send through the outbox (the policy decides how, or refuses) and keep it in the thread.

    `text` is what staff read in the thread; `content` is the Graph message object.
    The message is about the thread unless `subject_type`/`subject_id` name something else.
    """
    now = now or timezone.now()
    if not subject_type:
        subject_type, subject_id = THREAD_SUBJECT, thread.pk
    message = outbound.message_enqueue(
        phone_number=thread.phone_number,
        contact=thread.contact,
        category=category,
        purpose=purpose,
        content=content,
        template_params=template_params,
        dedupe_key=dedupe_key,
        subject_type=subject_type,
        subject_id=subject_id,
        media=media,
        now=now,
    )
    fields = {
        "thread": thread,
        "direction": Direction.OUTBOUND,
        "type": message.content.get("type", ""),
        "text": text[:4096],
        "payload": message.content,
        "sent_at": now,
        "staff_user": staff_user,
    }
    if dedupe_key:  # the outbox may have handed back a message queued earlier, and kept then
        kept, created = ThreadMessage.objects.get_or_create(outbound=message, defaults=fields)
    else:
        kept, created = ThreadMessage.objects.create(outbound=message, **fields), True
    if created:
        message_noted(kept)  # the staff inbox reads the thread row
    return message
