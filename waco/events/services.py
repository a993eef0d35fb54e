"""Events and endpoints: record an event in the change's transaction, manage endpoints, replay.

Delivery (claiming, posting, retrying) is waco.events.delivery.
"""

import json
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from waco.channels.models import BusinessAccount
from waco.events import signing
from waco.events.addresses import url_refusal
from waco.events.delivery import deliveries_ring
from waco.events.models import Delivery, Event, EventType, SubjectSequence, WebhookEndpoint

# The receiver verifies with either secret while it switches over.
ROTATION_OVERLAP = timedelta(hours=24)
SUBJECT_PATTERN = re.compile(r"^(order|variant|contact|message|thread):\S{1,190}$")
ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32, in ASCII order


# The last id made in this process: ids of one millisecond count up from it (ULID's monotonic mode).
_last_id = [0, 0]
_last_id_lock = threading.Lock()


def event_id_new(now: datetime) -> str:
    """`evt_` + a ULID: 48 bits of milliseconds then 80 random bits, so ids sort by creation time;
    within one millisecond a process's ids count up, so they sort in the order they were made too."""
    ms = int(now.timestamp() * 1000)
    with _last_id_lock:
        randomness = _last_id[1] + 1 if ms == _last_id[0] else secrets.randbits(79)  # room to count up
        _last_id[:] = [ms, randomness]
    value = (ms << 80) | randomness
    chars = [ULID_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return "evt_" + "".join(chars)


@dataclass(frozen=True)
class NewEvent:
    """One event to record: its type, subject (`order:<reference>`, ...), data and business account."""

    type: str
    subject: str
    data: dict
    business_account: BusinessAccount | None = None


def _sequences_take(counts: dict[str, int]) -> dict[str, int]:
    """Take `count` sequence numbers per subject; returns the last one each got. The subjects'
    counter rows stay locked until the caller's transaction ends.

    One upsert for all: a subject's first event inserts its row, later ones add to it under the
    row lock (taken in subject order, so two writers never wait on each other in a circle), and
    a rollback gives the numbers back.
    """
    table = SubjectSequence._meta.db_table
    subjects = sorted(counts)
    values = ", ".join(["(%s, %s)"] * len(subjects))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (subject, last_sequence) VALUES {values}"
            f" ON CONFLICT (subject) DO UPDATE SET last_sequence = {table}.last_sequence + excluded.last_sequence"
            " RETURNING subject, last_sequence",
            [value for subject in subjects for value in (subject, counts[subject])],
        )
        return dict(cursor.fetchall())


def events_record(new_events: list[NewEvent], *, now: datetime | None = None) -> list[Event]:
    """Write events, and their deliveries to the endpoints subscribed now, in the caller's transaction.

    Called by the service that makes the change, inside its transaction: the events commit or roll
    back with the change. A batch costs a handful of queries however long it is. Workers are woken
    after commit; beat's sweep finds what a lost wake-up left.
    """
    for new in new_events:
        if new.type not in EventType.values:
            raise ValueError(f"unknown event type {new.type!r}")
        if not SUBJECT_PATTERN.match(new.subject):
            raise ValueError(f"a subject is order:<reference>, variant:<sku>, contact:<id>, ...; not {new.subject!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("events are recorded inside the transaction of the change they report")
    if not new_events:
        return []
    now = now or timezone.now()
    timestamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    last = _sequences_take(Counter(new.subject for new in new_events))
    # The batch's events of one subject take its numbers in the order given.
    next_of = {subject: last[subject] - count + 1 for subject, count in Counter(n.subject for n in new_events).items()}
    events = []
    for new in new_events:
        sequence, next_of[new.subject] = next_of[new.subject], next_of[new.subject] + 1
        event_id = event_id_new(now)
        data = json.loads(json.dumps(new.data, cls=DjangoJSONEncoder))  # Decimals and dates as text
        body = {"id": event_id, "type": new.type, "timestamp": timestamp, "subject": new.subject}
        body = json.dumps({**body, "sequence": sequence, "data": data}, separators=(",", ":"), ensure_ascii=False)
        events.append(
            Event(
                id=event_id,
                type=new.type,
                subject=new.subject,
                sequence=sequence,
                data=data,
                body=body,
                business_account=new.business_account,
                created_at=now,
            )
        )
    Event.objects.bulk_create(events)
    _deliveries_create(events, now=now, replay=False)
    return events


def event_record(
    type: str, subject: str, data: dict, *, business_account: BusinessAccount | None = None, now=None
) -> Event:
    """One event (events_record)."""
    [event] = events_record([NewEvent(type, subject, data, business_account)], now=now)
    return event


# The start of the oldest transaction open in this database, the asking session's own aside. Sessions of
# another role show no xact_start without pg_read_all_stats: Waco's processes share one role.
OLDEST_OPEN_TRANSACTION = """
    SELECT min(xact_start) FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
"""


def events_settled_before(now: datetime) -> datetime:
    """The events the catch-up list may show: those stamped before this time, which no open transaction
    can still add to.

    An event's id and time are stamped inside the transaction of its change, so an event not committed
    yet was stamped after its transaction began: on PostgreSQL the list stops at the start of the oldest
    open transaction (a long one holds the list back, it never skips its events). The settle time is the
    margin for clocks (servers' against the database's) and for a `now` taken just before the transaction
    began; on SQLite (the demo) it is the whole rule.
    """
    settle = timedelta(seconds=settings.WACO_EVENTS_LIST_SETTLE_SECONDS)
    if connection.vendor != "postgresql":
        return now - settle
    with connection.cursor() as cursor:
        cursor.execute(OLDEST_OPEN_TRANSACTION)
        (oldest,) = cursor.fetchone()
    return min(now, oldest or now) - settle


def endpoints_subscribed(events: list[Event]) -> dict[str, list[WebhookEndpoint]]:
    """Event id -> the enabled endpoints taking its type and account (an event of no account goes to all)."""
    endpoints = list(WebhookEndpoint.objects.filter(enabled=True))
    limited: dict[int, set[int]] = {}
    through = WebhookEndpoint.business_accounts.through.objects.filter(webhookendpoint_id__in=[e.pk for e in endpoints])
    for endpoint_id, account_id in through.values_list("webhookendpoint_id", "businessaccount_id") if endpoints else ():
        limited.setdefault(endpoint_id, set()).add(account_id)
    return {
        event.id: [
            e
            for e in endpoints
            if event.type in e.event_types
            and (event.business_account_id is None or e.pk not in limited or event.business_account_id in limited[e.pk])
        ]
        for event in events
    }


def _deliveries_create(events, *, now: datetime, replay: bool) -> int:
    subscribed = endpoints_subscribed(events)
    rows = [
        Delivery(event=event, endpoint=endpoint, replay=replay, next_attempt_at=now, created_at=now)
        for event in events
        for endpoint in subscribed[event.id]
    ]
    Delivery.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(deliveries_ring)
    return len(rows)


@transaction.atomic
def events_replay(*, events, now: datetime | None = None) -> int:
    """Deliver these events again to the endpoints subscribed now: same body and webhook-id, fresh
    timestamps and signatures, a new set of attempts. Returns the deliveries made."""
    return _deliveries_create(list(events), now=now or timezone.now(), replay=True)


def endpoint_check(*, url: str, event_types: list[str]) -> None:
    """Raises ValidationError (field -> message) for a URL or types an endpoint may not have."""
    errors = {}
    refusal = url_refusal(url, allow_loopback=settings.WACO_EVENTS_ALLOW_LOOPBACK)
    if refusal:
        errors["url"] = refusal
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        errors["event_types"] = f"unknown event types: {', '.join(unknown)}"
    elif not event_types:
        errors["event_types"] = "choose at least one event type"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def endpoint_create(
    *, url: str, event_types: list[str], business_accounts=(), description: str = "", enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, which the caller shows once and Waco never shows again."""
    endpoint_check(url=url, event_types=event_types)
    secret = signing.secret_new()
    endpoint = WebhookEndpoint.objects.create(
        url=url, event_types=list(event_types), description=description, enabled=enabled, secret=secret
    )
    endpoint.business_accounts.set(business_accounts)
    return endpoint, secret


@transaction.atomic
def endpoint_rotate(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> str:
    """A new secret; the current one keeps signing alongside it for ROTATION_OVERLAP. Returns the new one."""
    now = now or timezone.now()
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.secret_new()
    locked.previous_secret, locked.secret = locked.secret, secret
    locked.previous_secret_expires_at = now + ROTATION_OVERLAP
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    endpoint.refresh_from_db()
    return secret


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, business_accounts=None, **changes) -> WebhookEndpoint:
    """Change an endpoint's url, event_types, description or enabled flag (and its accounts when given)."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint_check(url=changes.get("url", locked.url), event_types=changes.get("event_types", locked.event_types))
    if changes.get("enabled") and not locked.enabled:  # turned back on: its failures count afresh
        changes |= {"failing_since": None, "disabled_reason": ""}
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save()
    if business_accounts is not None:
        locked.business_accounts.set(business_accounts)
    return locked
