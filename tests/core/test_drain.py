"""wait_drained: returns only when nothing is due, in flight or queued, and names what is left."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbound.models import MessageStatus
from tests.outbound.factories import OutboundMessageFactory
from tests.support.drain import busy_work, queue_keys, wait_drained
from waco.ingest.inbox import delivery_receive


@pytest.fixture
def broker(test_redis):
    """Empty queues: earlier tests that ran no worker may have left task messages behind."""
    keys = [*queue_keys(), "unacked", "waco:ingest:drain-requested"]
    test_redis.delete(*keys)
    yield test_redis
    test_redis.delete(*keys)


@pytest.mark.django_db
def test_a_quiet_system_is_drained(broker):
    OutboundMessageFactory(status=MessageStatus.DELIVERED)
    OutboundMessageFactory(status=MessageStatus.QUEUED, next_attempt_at=timezone.now() + timedelta(hours=1))
    assert busy_work() == []
    wait_drained(timeout=5)


@pytest.mark.django_db
def test_a_due_delivery_and_a_message_being_sent_are_named_at_the_deadline(broker):
    delivery_receive(source="meta", body="{}", headers={})
    OutboundMessageFactory(status=MessageStatus.SENDING)
    with pytest.raises(
        AssertionError, match=r"not drained after 0.3s: 1 inbox deliveries due; 1 outbox messages being sent"
    ):
        wait_drained(timeout=0.3)


@pytest.mark.django_db
def test_queued_and_held_celery_messages_and_a_rung_doorbell_are_work(broker):
    broker.lpush("marketing", "{}")
    broker.hset("unacked", "tag", "{}")
    broker.set("waco:ingest:drain-requested", 1)
    assert busy_work() == [
        "1 Celery messages queued on marketing",
        "1 Celery messages held by a worker",
        "doorbell waco:ingest:drain-requested rung",
    ]
