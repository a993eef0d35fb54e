"""Endpoints, events and deliveries for the events tests (waco.events)."""

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from checkout.fulfilment import fulfilment_apply
from checkout.models import Order
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from waco.contacts import services as contacts
from waco.events import delivery, services
from waco.events.models import Event, EventType

# The worker processes of the events tests: short timeout and retries, posts to loopback allowed.
WORKER_ENV = {
    "WACO_EVENTS_TIMEOUT_SECONDS": "1",
    "WACO_EVENTS_RETRY_BASE_SECONDS": "0.2",
    "WACO_EVENTS_ALLOW_LOOPBACK": "1",
}


def worker_settings(settings) -> None:
    """The test process agrees with its workers (the lease a claim takes depends on the timeout)."""
    settings.WACO_EVENTS_TIMEOUT_SECONDS = 1
    settings.WACO_EVENTS_RETRY_BASE_SECONDS = 0.2
    settings.WACO_EVENTS_ALLOW_LOOPBACK = True


def endpoint_to(url: str, *, types=None, accounts=()):
    """An enabled endpoint taking `types` (every type by default); returns (endpoint, secret)."""
    return services.endpoint_create(url=url, event_types=list(types or EventType.values), business_accounts=accounts)


def event_commit(type: str, subject: str, data: dict | None = None, **kwargs):
    """Record one event in a transaction of its own, as a service would with its change."""
    with transaction.atomic():
        return services.event_record(type, subject, data or {}, **kwargs)


def drain_here() -> int:
    """Post what is due, in this process (the tests that need no worker)."""
    return delivery.deliveries_drain()


# --- the events' real causes: shared by the test_order_*, test_contact_* and sandbox-customer modules ---


def history(subject: str) -> list[tuple[str, int]]:
    """The subject's events as (type, sequence), in sequence order."""
    return list(Event.objects.filter(subject=subject).order_by("sequence").values_list("type", "sequence"))


def as_json(moment) -> str:
    """A time as an event's data says it."""
    return DjangoJSONEncoder().default(moment)


def last(type: str, subject: str) -> Event:
    return Event.objects.filter(type=type, subject=subject).order_by("sequence").last()


def staff(order, event: str, **kwargs) -> Order:
    return fulfilment_apply(order=order, event=event, by="staff", by_name="layla", **kwargs)


@pytest.fixture
def number(db):
    return PhoneNumberFactory(verified_name="Layla Boutique")


@pytest.fixture
def amal(number):
    """A customer who has just written to the shop: her window is open, so the shop's replies queue."""
    contact = ContactFactory(wa_id="971502230001", profile_name="Amal")
    contacts.window_touch(contact=contact, phone_number=number, inbound_at=timezone.now())
    return contact
