"""Thread operations, callable without HTTP or Celery."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from conversations.models import Thread, ThreadTransition
from waco.channels.models import PhoneNumber
from waco.contacts.models import Contact

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
    try:
        with transaction.atomic():
            thread, _ = Thread.objects.get_or_create(contact=contact, phone_number=phone_number)
    except IntegrityError:  # another worker created it first
        thread = Thread.objects.get(contact=contact, phone_number=phone_number)
    return thread


@transaction.atomic
def thread_transition(
    *, thread: Thread, name: str, cause: str, detail: str = "", now: datetime | None = None
) -> Thread:
    """Lock the thread, apply one transition and record it; refused transitions change nothing."""
    if name not in TRANSITIONS:
        raise ThreadTransitionRefused(f"no transition named {name!r}")
    locked = Thread.objects.select_for_update().get(pk=thread.pk)
    source = locked.state
    try:
        TRANSITIONS[name](locked)
    except TransitionNotAllowed as exc:
        raise ThreadTransitionRefused(f"{name} is not allowed from {source}") from exc
    locked.save()
    ThreadTransition.objects.create(
        thread=locked, name=name, source=source, target=locked.state, cause=cause, detail=detail[:255],
        at=now or timezone.now(),
    )
    return locked


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
