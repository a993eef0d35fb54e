"""Each step of a message has its time, whatever order Meta's statuses arrive in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbound import statuses
from outbound.models import MessageStatus
from tests.outbound.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
SENT, DELIVERED, READ = T0, T0 + timedelta(seconds=2), T0 + timedelta(seconds=9)


def apply(message, status, at):
    statuses.status_apply(message=message, status=status, at=at)
    message.refresh_from_db()


def test_statuses_in_order_give_each_step_its_own_time():
    message = OutboundMessageFactory(status=MessageStatus.ACCEPTED, wamid="wamid.1")
    for status, at in (("sent", SENT), ("delivered", DELIVERED), ("read", READ)):
        apply(message, status, at)

    assert (message.sent_at, message.delivered_at, message.read_at) == (SENT, DELIVERED, READ)
    assert message.failed_at is None


def test_a_read_before_its_delivered_fills_both_and_the_late_delivered_brings_its_earlier_time():
    message = OutboundMessageFactory(status=MessageStatus.ACCEPTED, wamid="wamid.2")

    apply(message, "read", READ)
    assert message.status == MessageStatus.READ
    assert (message.sent_at, message.delivered_at, message.read_at) == (READ, READ, READ)

    apply(message, "delivered", DELIVERED)
    apply(message, "sent", SENT)
    assert message.status == MessageStatus.READ  # never backwards
    assert (message.sent_at, message.delivered_at, message.read_at) == (SENT, DELIVERED, READ)


def test_a_duplicate_status_with_a_later_time_keeps_the_first_time():
    message = OutboundMessageFactory(status=MessageStatus.ACCEPTED, wamid="wamid.3")
    apply(message, "delivered", DELIVERED)
    apply(message, "delivered", DELIVERED + timedelta(minutes=5))

    assert message.delivered_at == DELIVERED


def test_a_failed_status_records_when_it_failed():
    from waco.cloud_api.errors import ErrorDetail

    message = OutboundMessageFactory(status=MessageStatus.SENT, wamid="wamid.4", sent_at=SENT)
    before = timezone.now()
    apply_failed = statuses.status_apply(
        message=message, status="failed", at=DELIVERED, errors=[ErrorDetail(code=131026, title="Undeliverable")]
    )
    message.refresh_from_db()

    assert apply_failed and message.status == MessageStatus.FAILED
    assert message.failed_at >= before
    assert message.error_code == 131026
    assert message.sent_at == SENT and message.delivered_at is None
