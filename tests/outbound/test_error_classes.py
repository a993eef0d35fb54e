"""Each error class end to end: the sandbox refuses a send with the code, Waco does the right thing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbound import sending, services
from outbound.models import MessageCategory, MessageStatus
from tests.support.sandbox_shop import sandbox_shop_wire
from waco.celery_config import QUEUE_SERVICE
from waco.channels.models import PhoneNumber
from waco.sandbox import services as sandbox

CUSTOMER = "971501230004"


@pytest.fixture
def shop(transactional_db, settings, live_server):
    shop = sandbox_shop_wire(settings, live_server)
    shop.customer_says(CUSTOMER)
    return shop


@pytest.mark.parametrize(
    "code, status, needs_person, earliest_retry, number_paused",
    [
        ("130429", MessageStatus.QUEUED, False, timedelta(0), False),  # rate: slow down, retry
        ("131056", MessageStatus.QUEUED, False, timedelta(seconds=6), False),  # pair rate: this customer's pace
        ("131000", MessageStatus.QUEUED, False, timedelta(seconds=2), False),  # transient: backoff
        ("131049", MessageStatus.QUEUED, False, timedelta(hours=24), False),  # later: not within 24 h
        ("131026", MessageStatus.FAILED, False, None, False),  # recipient: permanent
        ("100", MessageStatus.FAILED, True, None, False),  # request: our bug, dead letter
        ("368", MessageStatus.FAILED, True, None, True),  # integrity: stop, alert, never resend
        ("190", MessageStatus.QUEUED, False, timedelta(0), True),  # auth: pause, keep it queued
        ("999999", MessageStatus.FAILED, True, None, False),  # unclassified: a person looks
    ],
)
def test_each_error_class_is_handled_as_its_class_says(shop, code, status, needs_person, earliest_retry, number_paused):
    sandbox.config_update(changes={"sync_error_rates": {code: 1.0}})
    message = services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact(CUSTOMER),
        category=MessageCategory.SERVICE,
        purpose="reply",
        content={"type": "text", "text": {"body": "hello"}},
    )
    before = timezone.now()
    sending.outbox_drain(queue=QUEUE_SERVICE)

    message.refresh_from_db()
    assert message.status == status
    assert message.needs_person == needs_person
    if earliest_retry is not None:
        assert message.next_attempt_at >= before + earliest_retry
    assert PhoneNumber.objects.get(pk=shop.number.pk).sending_paused == number_paused
    assert shop.sent_bodies(to=CUSTOMER) == []
