"""Threads leave the cart states when their service window closes.

Cart building and payment are conversations inside the window; once it has
closed the thread goes back to browsing (expire_window). The cart is kept for
recovery, and a pending order is left alone: its payment link expires on its
own, and a payment that still arrives is applied (mark_paid is allowed from
browsing). Beat calls `threads_expire_windows` with `now` computed in Python.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef

from conversations.models import CART_STATES, Thread, TransitionCause
from conversations.services import thread_transition
from waco.contacts.models import SERVICE_WINDOW, ServiceWindow


def _window_open(now: datetime):
    return ServiceWindow.objects.filter(
        contact=OuterRef("contact"), phone_number=OuterRef("phone_number"), last_inbound_at__gt=now - SERVICE_WINDOW
    )


def threads_window_closed(*, now: datetime, batch: int = 500):
    """Threads in a cart state whose window closed before `now` (or that never had one)."""
    return Thread.objects.filter(state__in=CART_STATES).exclude(Exists(_window_open(now))).order_by("pk")[:batch]


def threads_expire_windows(*, now: datetime, batch: int = 500) -> int:
    """Beat: move each such thread to browsing, recorded with cause "window". Returns how many moved."""
    moved = 0
    for thread in threads_window_closed(now=now, batch=batch):
        moved += _expire(thread, now=now)
    return moved


@transaction.atomic
def _expire(thread: Thread, *, now: datetime) -> int:
    # Checked again under the thread's lock: the customer may have written (or been served) meanwhile.
    # A thread the dialogue holds right now is skipped; the dialogue expires it itself if it must.
    still = (
        Thread.objects.select_for_update(skip_locked=True)
        .filter(pk=thread.pk, state__in=CART_STATES)
        .exclude(Exists(_window_open(now)))
        .first()
    )
    if still is None:
        return 0
    thread_transition(
        thread=still, name="expire_window", cause=TransitionCause.WINDOW, detail="the service window closed", now=now
    )
    return 1
