"""A message put back in the queue for a short wait gets a drain of its own when it falls due."""

from datetime import timedelta

import pytest

from outbound import gcra, outcomes, ratelimit, sending
from outbound.models import MessageStatus, OutboundMessage
from outbound.tasks import drain_outbox
from tests.outbound.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wake_ups(monkeypatch):
    published = []
    monkeypatch.setattr(
        drain_outbox, "apply_async", lambda args=(), kwargs=None, **options: published.append((args, options))
    )
    return published


def test_a_pair_limited_message_is_requeued_with_a_drain_at_its_due_time(
    monkeypatch, wake_ups, django_capture_on_commit_callbacks
):
    message = OutboundMessageFactory(status=MessageStatus.SENDING, attempts=1)
    monkeypatch.setattr(ratelimit, "pair_acquire", lambda **kw: gcra.Decision(allowed=False, retry_after=2.5))
    with django_capture_on_commit_callbacks(execute=True):
        sending.messages_send(messages=[message])
    message = OutboundMessage.objects.get(pk=message.pk)
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    assert wake_ups == [(("service",), {"queue": "service", "countdown": 2.5})]


def test_long_waits_are_left_to_beats_sweep(wake_ups, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.requeue(OutboundMessageFactory(status=MessageStatus.SENDING), delay=timedelta(hours=24))
    assert wake_ups == []
