"""What the business sent: the bodies as received, their wamids and latest statuses.

Polled by the demo's chat page and by tests: GET /sandbox/graph/outbox.
In lean mode (benchmarks) sends are kept only in this process's memory.
"""

import itertools
import json
import threading
import time
from collections import deque

from django.db.models import Q
from django.utils import timezone

from waco.sandbox.config import Config
from waco.sandbox.models import Delivery, DeliveryKind, SentMessage

# A status counts once its time has come, whether or not Waco has acknowledged it yet.
STATUS_PRECEDENCE = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
DEFAULT_LIMIT = 1000
LEAN_CAPACITY = 200_000


class LeanOutbox:
    """Sends recorded in memory only, so a benchmark measures Waco, not the sandbox's writes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._generation = None
        self._items: deque = deque(maxlen=LEAN_CAPACITY)
        self._ids = itertools.count(1)

    def record(
        self, *, config: Config, phone_number_id: str, addressee, wamid: str, raw_body: bytes, edge: str
    ) -> None:
        with self._lock:
            self._reset_if_stale(config)
            self._items.append(
                (
                    next(self._ids),
                    phone_number_id,
                    addressee.to,
                    addressee.recipient,
                    wamid,
                    raw_body,
                    time.time(),
                    edge,
                )
            )

    def list(
        self,
        *,
        config: Config,
        to: str = "",
        recipient: str = "",
        edge: str = "",
        since_id: int = 0,
        limit: int = DEFAULT_LIMIT,
    ) -> list[dict]:
        with self._lock:
            self._reset_if_stale(config)
            items = [
                i
                for i in self._items
                if i[0] > since_id
                and (not to or i[2] == to)
                and (not recipient or i[3] == recipient)
                and (not edge or i[7] == edge)
            ][:limit]
        return [
            _item(outbox_id=i[0], phone_number_id=i[1], wamid=i[4], raw=i[5], status="accepted") | {"accepted_at": i[6]}
            for i in items
        ]

    def _reset_if_stale(self, config: Config) -> None:
        # A recreated config row (a flushed test database) starts an empty outbox.
        if self._generation != config.generation:
            self._generation = config.generation
            self._items.clear()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


lean_outbox = LeanOutbox()


def _item(*, outbox_id: int, phone_number_id: str, wamid: str, raw, status: str) -> dict:
    body = json.loads(raw)
    return {
        **body,
        "wamid": wamid,
        "status": status,
        "outbox_id": outbox_id,
        "phone_number_id": phone_number_id,
    }


def _latest_statuses(wamids: list[str]) -> dict[str, str]:
    now = timezone.now()
    rows = Delivery.objects.filter(kind=DeliveryKind.STATUS, ref__in=wamids).filter(
        Q(delivered_at__isnull=False) | Q(attempts__gt=0) | Q(next_attempt_at__lte=now)
    )
    latest: dict[str, str] = {}
    for wamid, status in rows.values_list("ref", "status"):
        if STATUS_PRECEDENCE.get(status, 0) > STATUS_PRECEDENCE.get(latest.get(wamid, "accepted"), 0):
            latest[wamid] = status
    return latest


def outbox_list(
    *,
    config: Config,
    to: str = "",
    recipient: str = "",
    customer: str = "",
    edge: str = "",
    since_id: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> list[dict]:
    """Sends oldest first, after an outbox_id, optionally only those with this `to` (a wa_id)
    or `recipient` (a BSUID) as sent, those that reach this customer (a ServiceWindow key),
    or those posted to this edge ("messages" or "marketing_messages")."""
    if config["lean"]:
        return lean_outbox.list(config=config, to=to, recipient=recipient, edge=edge, since_id=since_id, limit=limit)
    rows = SentMessage.objects.select_related("number").filter(id__gt=since_id).order_by("id")
    for name, value in (("to", to), ("recipient", recipient), ("customer", customer), ("edge", edge)):
        if value:
            rows = rows.filter(**{name: value})
    rows = list(rows[:limit])
    statuses = _latest_statuses([r.wamid for r in rows])
    return [
        _item(
            outbox_id=r.id,
            phone_number_id=r.number.phone_number_id,
            wamid=r.wamid,
            raw=r.body,
            status=statuses.get(r.wamid, "accepted"),
        )
        for r in rows
    ]
