"""Events and endpoints: record an event in the change's transaction, manage endpoints, replay.

Delivery (claiming, posting, retrying) is waco.events.delivery.
"""

import json
import re
import secrets
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


def event_id_new(now: datetime) -> str:
    """`evt_` + a ULID: 48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    value = (int(now.timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = [ULID_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return "evt_" + "".join(chars)


def _sequence_next(subject: str) -> int:
    """The subject's next sequence number, its counter row locked until the caller's transaction ends.

    One upsert: the first event of a subject inserts the row, later ones increment it under the
    row lock, so concurrent writers of one subject queue here and a rollback gives the number back.
    """
    table = SubjectSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (subject, last_sequence) VALUES (%s, 1)"
            f" ON CONFLICT (subject) DO UPDATE SET last_sequence = {table}.last_sequence + 1"
            " RETURNING last_sequence",
            [subject],
        )
        return cursor.fetchone()[0]


def event_record(
    type: str,
    subject: str,
    data: dict,
    *,
    business_account: BusinessAccount | None = None,
    now: datetime | None = None,
) -> Event:
    """Write an event, and its deliveries to the endpoints subscribed now, in the caller's transaction.

    Called by the service that makes the change, inside its transaction: the event commits or rolls
    back with the change. Workers are woken after commit; beat's sweep finds what a lost wake-up left.
    """
    if type not in EventType.values:
        raise ValueError(f"unknown event type {type!r}")
    if not SUBJECT_PATTERN.match(subject):
        raise ValueError(f"a subject is order:<reference>, variant:<sku>, contact:<id>, ...; not {subject!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("event_record runs inside the transaction of the change it reports")
    now = now or timezone.now()
    event_id = event_id_new(now)
    sequence = _sequence_next(subject)
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))  # what the body says, Decimals and dates as text
    body = json.dumps(
        {
            "id": event_id,
            "type": type,
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "subject": subject,
            "sequence": sequence,
            "data": data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    event = Event.objects.create(
        id=event_id,
        type=type,
        subject=subject,
        sequence=sequence,
        data=data,
        body=body,
        business_account=business_account,
        created_at=now,
    )
    _deliveries_create([event], now=now, replay=False)
    return event


def endpoints_subscribed(event: Event) -> list[WebhookEndpoint]:
    """The enabled endpoints taking this event's type and account (an event of no account goes to all)."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(enabled=True) if event.type in e.event_types]
    if not endpoints or event.business_account_id is None:
        return endpoints
    limited = WebhookEndpoint.business_accounts.through.objects.filter(webhookendpoint_id__in=[e.pk for e in endpoints])
    accounts: dict[int, set[int]] = {}
    for endpoint_id, account_id in limited.values_list("webhookendpoint_id", "businessaccount_id"):
        accounts.setdefault(endpoint_id, set()).add(account_id)
    return [e for e in endpoints if e.pk not in accounts or event.business_account_id in accounts[e.pk]]


def _deliveries_create(events, *, now: datetime, replay: bool) -> int:
    rows = [
        Delivery(event=event, endpoint=endpoint, replay=replay, next_attempt_at=now, created_at=now)
        for event in events
        for endpoint in endpoints_subscribed(event)
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
