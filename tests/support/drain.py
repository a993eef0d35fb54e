"""Wait until Waco has nothing left to do: the way to assert that nothing else happened.

Sleeping and then asserting "no second reply" passes on a slow machine without
proving anything: the second reply may simply not have been sent yet. Waiting
for a drained state first means every piece of work that was going to happen
has happened, so what is asserted afterwards is the final word.

Drained means, all at once:
- the ingest inbox has no pending delivery that is due (a claimed one is held by
  a drain task, which the broker shows as unacknowledged);
- the outbox has no queued message that is due and none being sent;
- no event delivery to a merchant's endpoint is due (one being posted is held by its drain task);
- no Celery message waits in any of our queues or is held by a worker (with late
  acknowledgement, a running task stays unacknowledged until it returns);
- no doorbell flag says a drain was requested and has not started.

A message moves from a queue to the unacknowledged set in two Redis commands, so
one quiet look can fall between them: the state must hold for QUIET_LOOKS looks
in a row.
"""

import time

import redis
from django.conf import settings
from django.utils import timezone
from kombu.transport.redis import PRIORITY_STEPS, Channel

from outbound.models import MessageStatus, OutboundMessage
from waco.celery_config import ALL_QUEUES
from waco.events.models import Delivery as EventDelivery
from waco.events.models import DeliveryState as EventDeliveryState
from waco.ingest.models import Delivery, DeliveryStatus

QUIET_LOOKS = 3
LOOK_INTERVAL_SECONDS = 0.1
DOORBELL_FLAGS = "waco:*:drain-requested"


def queue_keys() -> list[str]:
    """Every Redis list kombu may keep a queue's messages in (one per priority step)."""
    return [name if not step else f"{name}{Channel.sep}{step}" for name in ALL_QUEUES for step in PRIORITY_STEPS]


def unacked_age() -> float:
    """Seconds since the broker gave out the oldest message no worker has acknowledged (0: none)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        oldest = client.zrange(Channel.unacked_index_key, 0, 0, withscores=True)
    finally:
        client.close()
    return time.time() - oldest[0][1] if oldest else 0.0


def busy_work() -> list[str]:
    """What is still to be done, in words; empty when drained."""
    now = timezone.now()
    busy = []
    inbox_due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).count()
    if inbox_due:
        busy.append(f"{inbox_due} inbox deliveries due")
    outbox_due = OutboundMessage.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now).count()
    if outbox_due:
        busy.append(f"{outbox_due} outbox messages due")
    sending = OutboundMessage.objects.filter(status=MessageStatus.SENDING).count()
    if sending:
        busy.append(f"{sending} outbox messages being sent")
    events_due = EventDelivery.objects.filter(state=EventDeliveryState.PENDING, next_attempt_at__lte=now).count()
    if events_due:
        busy.append(f"{events_due} event deliveries due")
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = queue_keys()
        pipe = client.pipeline(transaction=True)  # one atomic snapshot of the broker
        for key in keys:
            pipe.llen(key)
        pipe.hlen(Channel.unacked_key)
        pipe.keys(DOORBELL_FLAGS)
        *lengths, unacked, flags = pipe.execute()
    finally:
        client.close()
    queued = {key.split(Channel.sep)[0]: 0 for key in keys}
    for key, length in zip(keys, lengths, strict=True):
        queued[key.split(Channel.sep)[0]] += length
    busy += [f"{count} Celery messages queued on {queue}" for queue, count in queued.items() if count]
    if unacked:
        busy.append(f"{unacked} Celery messages held by a worker")
    busy += [f"doorbell {flag.decode()} rung" for flag in flags]
    return busy


def wait_drained(timeout: float = 30) -> None:
    """Return once nothing is due, in flight or queued; fail naming what is left at `timeout`."""
    deadline = time.monotonic() + timeout
    quiet_looks = 0
    while True:
        busy = busy_work()
        quiet_looks = 0 if busy else quiet_looks + 1
        if quiet_looks >= QUIET_LOOKS:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not drained after {timeout}s: {'; '.join(busy) or 'quiet only just now'}")
        time.sleep(LOOK_INTERVAL_SECONDS)
