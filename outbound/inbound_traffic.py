"""Customers' messages spend the number's throughput too: Meta counts inbound and outbound together.

Each inbound message a batch applies is counted here, in process memory; after
the batch, one limiter call per number takes their tokens (conforming or not),
so the sends get what the inbound traffic leaves. Ingest never waits for this:
the count is a dict update, and a store that fails only logs (ratelimit).
"""

import threading

from outbound import ratelimit
from waco.channels.models import PhoneNumber

_received: dict[int, tuple[PhoneNumber, int]] = {}  # phone number pk -> (number, messages this batch)
_lock = threading.Lock()


def inbound_count(*, phone_number: PhoneNumber) -> None:
    """Called for each customer message as its event is applied."""
    with _lock:
        _, count = _received.get(phone_number.pk, (phone_number, 0))
        _received[phone_number.pk] = (phone_number, count + 1)


def inbound_charge() -> None:
    """After each batch: the counted messages take their tokens from their numbers' buckets."""
    with _lock:
        received = list(_received.values())
        _received.clear()
    for phone_number, count in received:
        ratelimit.number_charge_inbound(phone_number=phone_number, count=count)
