"""Endpoints, events and deliveries for the events tests (waco.events)."""

from django.db import transaction

from waco.events import delivery, services
from waco.events.models import EventType

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
