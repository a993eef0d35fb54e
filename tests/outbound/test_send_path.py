"""The send path end to end against the sandbox over HTTP."""

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from outbound import sending, services
from outbound.models import MessageCategory, MessageStatus, OutboundMessage, SendAttempt
from tests.support.sandbox_shop import sandbox_shop_wire
from waco.alerts.models import Alert
from waco.celery_config import QUEUE_SERVICE
from waco.channels.models import PhoneNumber

CUSTOMER = "971501230001"
TEXT = {"type": "text", "text": {"body": "Your cart has 2 items"}}


@pytest.fixture
def shop(transactional_db, settings, live_server):
    return sandbox_shop_wire(settings, live_server)


def reply(shop, content=TEXT, category=MessageCategory.SERVICE, purpose="reply"):
    return services.message_enqueue(
        phone_number=shop.number, contact=shop.contact(CUSTOMER), category=category, purpose=purpose, content=content
    )


def test_a_reply_in_the_window_goes_free_form_with_our_id_as_callback_data(shop):
    shop.customer_says(CUSTOMER)
    message = reply(shop)

    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED
    [sent] = shop.sent_bodies(to=CUSTOMER)
    assert sent["text"] == TEXT["text"]
    assert sent["biz_opaque_callback_data"] == str(message.pk)
    assert sent["wamid"] == message.wamid
    assert SendAttempt.objects.get(message=message).outcome == "accepted"


def test_statuses_move_the_message_to_read_and_keep_pricing(shop):
    shop.customer_says(CUSTOMER)
    message = reply(shop)
    sending.outbox_drain(queue=QUEUE_SERVICE)

    shop.deliver_webhooks()

    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert message.pricing_category == "service"
    assert message.pricing_model == "PMP"


def test_a_service_reply_outside_the_window_is_refused_and_recorded(shop):
    message = reply(shop)
    assert message.status == MessageStatus.FAILED
    assert message.error_class == "policy"
    assert "window is closed" in message.error_detail
    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 0
    assert shop.sent_bodies(to=CUSTOMER) == []


def test_a_business_initiated_update_without_consent_is_refused(shop):
    message = reply(shop, category=MessageCategory.UTILITY, purpose="order_update")
    assert message.status == MessageStatus.FAILED
    assert "no utility consent" in message.error_detail


def test_an_expired_token_pauses_the_number_and_later_sends_stay_queued(shop):
    from waco.sandbox import services as sandbox

    shop.customer_says(CUSTOMER)
    sandbox.config_update(changes={"sync_error_rates": {"190": 1.0}})
    first = reply(shop)
    sending.outbox_drain(queue=QUEUE_SERVICE)

    number = PhoneNumber.objects.get(pk=shop.number.pk)
    assert number.sending_paused
    assert "190" in number.sending_paused_reason
    assert Alert.objects.filter(kind="number_paused", resolved_at__isnull=True).exists()
    second = reply(shop)
    sending.outbox_drain(queue=QUEUE_SERVICE)
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
    assert shop.sent_bodies(to=CUSTOMER) == []


def test_a_per_user_marketing_limit_is_not_retried_within_24_hours(shop):
    from waco.sandbox import services as sandbox

    shop.customer_says(CUSTOMER)
    sandbox.config_update(changes={"sync_error_rates": {"131049": 1.0}})
    message = reply(shop)
    before = timezone.now()
    sending.outbox_drain(queue=QUEUE_SERVICE)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.next_attempt_at >= before + timedelta(hours=24)
    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 0


def test_a_server_error_before_meta_answered_is_retried_with_backoff(shop):
    from waco.sandbox import services as sandbox

    shop.customer_says(CUSTOMER)
    sandbox.config_update(changes={"sync_error_rates": {"131000": 1.0}})
    message = reply(shop)
    sending.outbox_drain(queue=QUEUE_SERVICE)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.next_attempt_at > timezone.now()
    assert message.attempts == 1


def test_a_new_token_resumes_the_number_and_the_held_messages_go(shop, django_capture_on_commit_callbacks):
    from waco.channels import services as channels
    from waco.sandbox import services as sandbox

    shop.customer_says(CUSTOMER)
    sandbox.config_update(changes={"sync_error_rates": {"190": 1.0}})
    held = reply(shop)
    sending.outbox_drain(queue=QUEUE_SERVICE)
    assert PhoneNumber.objects.get(pk=shop.number.pk).sending_paused
    sandbox.config_update(changes={"sync_error_rates": {}})

    with django_capture_on_commit_callbacks(execute=True):
        resumed = channels.business_account_rotate_token(
            business_account=shop.number.business_account, access_token=shop.number.business_account.access_token
        )
    assert resumed == 1
    assert not Alert.objects.filter(kind="number_paused", resolved_at__isnull=True).exists()
    sending.outbox_drain(queue=QUEUE_SERVICE)
    held.refresh_from_db()
    assert held.status == MessageStatus.ACCEPTED


def test_marking_read_gives_the_customer_blue_ticks_without_an_outbox_row(shop):
    from outbound.read_receipts import messages_mark_read
    from waco.sandbox.models import InboundMessage

    wamids = [shop.customer_says(CUSTOMER, text) for text in ("hi", "still there?")]
    assert messages_mark_read(phone_number=shop.number, message_ids=wamids) == []
    assert all(m.read_at is not None for m in InboundMessage.objects.filter(wamid__in=wamids))
    assert len(wamids) == 2 and not OutboundMessage.objects.exists()


def test_receipts_beyond_the_numbers_limit_are_left_for_later(shop, monkeypatch):
    from outbound import ratelimit
    from outbound.read_receipts import messages_mark_read
    from waco.sandbox.models import InboundMessage

    wamids = [shop.customer_says(CUSTOMER, text) for text in ("one", "two", "three")]
    monkeypatch.setattr(ratelimit, "number_acquire_many", lambda phone_number, count: 1)
    assert messages_mark_read(phone_number=shop.number, message_ids=wamids) == wamids[1:]
    assert list(InboundMessage.objects.filter(read_at__isnull=False).values_list("wamid", flat=True)) == wamids[:1]


def test_calls_to_different_recipients_overlap_and_one_recipients_messages_keep_their_order(shop):
    """Meta answers in 100-300 ms: a drain sending one call at a time would manage a few a second."""
    from waco.sandbox import services as sandbox

    others = [f"97150123100{n}" for n in range(3)]
    for wa_id in [CUSTOMER, *others]:
        shop.customer_says(wa_id)
    sandbox.config_update(changes={"latency_ms": 300})
    texts = [f"part {n}" for n in range(3)]
    mine = [reply(shop, {"type": "text", "text": {"body": text}}) for text in texts]
    for wa_id in others:
        services.message_enqueue(
            phone_number=shop.number,
            contact=shop.contact(wa_id),
            category=MessageCategory.SERVICE,
            purpose="reply",
            content=TEXT,
        )

    assert sending.outbox_drain(queue=QUEUE_SERVICE) == 6

    spans = [
        (a.started_at, a.started_at + timedelta(milliseconds=a.duration_ms), a.message.recipient)
        for a in SendAttempt.objects.select_related("message").order_by("started_at")
    ]
    assert len(spans) == 6 and all(a.duration_ms >= 300 for a in SendAttempt.objects.all())
    overlapping = [(a, b) for a, b in pairwise(spans) if b[0] < a[1]]
    assert overlapping, "no two calls were in flight at once"
    my_spans = [span for span in spans if span[2] == CUSTOMER]
    assert all(later[0] >= earlier[1] for earlier, later in pairwise(my_spans))
    assert [body["text"]["body"] for body in shop.sent_bodies(to=CUSTOMER)] == texts
    assert [m.pk for m in sorted(mine, key=lambda m: SendAttempt.objects.get(message=m).started_at)] == [
        m.pk for m in mine
    ]
