"""A recipient follows its message's statuses (never backwards; a failure only before delivery), and
takes the reply and the paid order attributed to it within the campaign's window."""

import importlib
import random
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignStatus, CampaignTotals, RecipientStatus
from campaigns.outcomes import FROM_MESSAGE, campaign_totals_refresh, recipient_ordered, recipients_sync
from checkout.models import Order
from checkout.signals import order_paid
from conversations.models import Thread
from conversations.services import thread_message_record_inbound
from outbound import statuses
from outbound.models import MessageStatus, OutboundMessage, PriceRate
from outbound.pricing import message_cost
from tests.campaigns.factories import CampaignFactory, sent_recipient
from tests.channels.factories import PhoneNumberFactory
from tests.checkout.factories import paid_order
from waco.cloud_api.errors import ErrorDetail

pytestmark = pytest.mark.django_db
R = RecipientStatus
SEED = importlib.import_module("outbound.migrations.0008_price_rates")
MARKETING = SimpleNamespace(pricing_model="PMP", type="regular", category="marketing")
UNDELIVERABLE = ErrorDetail(code=131026, title="Message undeliverable")


@pytest.fixture(autouse=True)
def seeded_rates(db):
    if not PriceRate.objects.filter(market="United Arab Emirates").exists():
        SEED.seed(apps, None)


@pytest.fixture
def campaign():
    return CampaignFactory(status=CampaignStatus.RUNNING)


def meta_says(message, status, *, at=None, pricing=None, errors=()):
    """One status webhook applied as outbound's handler does: under the message's row lock."""
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        statuses.status_apply(message=locked, status=status, at=at or timezone.now(), pricing=pricing, errors=errors)


def synced(recipient):
    recipients_sync(campaign=recipient.campaign)
    recipient.refresh_from_db()
    return recipient


def test_a_recipient_follows_its_message_from_sent_to_read(campaign):
    recipient = sent_recipient(campaign)
    sent_at = timezone.now() - timedelta(minutes=3)
    meta_says(recipient.message, "sent", at=sent_at)
    assert synced(recipient).status == R.SENT
    assert recipient.sent_at == sent_at
    meta_says(recipient.message, "delivered", pricing=MARKETING)
    assert synced(recipient).status == R.DELIVERED
    read_at = timezone.now()
    meta_says(recipient.message, "read", at=read_at)
    assert synced(recipient).status == R.READ
    assert recipient.status_at == read_at


def test_a_delivered_message_costs_its_countrys_marketing_rate(campaign):
    recipient = sent_recipient(campaign)
    meta_says(recipient.message, "delivered", pricing=MARKETING)
    expected = message_cost(country_code="AE", category="marketing", on=timezone.now().date())
    assert expected is not None
    assert synced(recipient).cost == expected


def test_a_free_entry_point_message_costs_nothing(campaign):
    recipient = sent_recipient(campaign)
    free = SimpleNamespace(pricing_model="PMP", type="free_entry_point", category="marketing")
    meta_says(recipient.message, "delivered", pricing=free)
    assert synced(recipient).cost == 0


def test_a_failure_before_delivery_fails_the_recipient_with_metas_error(campaign):
    recipient = sent_recipient(campaign)
    meta_says(recipient.message, "sent")
    meta_says(recipient.message, "failed", errors=[UNDELIVERABLE])
    assert synced(recipient).status == R.FAILED
    assert recipient.error_code == 131026
    assert "Message undeliverable" in recipient.error_title
    assert recipient.cost is None


def test_a_late_failure_after_delivered_changes_nothing(campaign):
    recipient = sent_recipient(campaign)
    meta_says(recipient.message, "delivered", pricing=MARKETING)
    assert synced(recipient).status == R.DELIVERED
    meta_says(recipient.message, "failed", errors=[UNDELIVERABLE])
    assert synced(recipient).status == R.DELIVERED
    # Even a message row that says failed (however it got there) does not undo a delivery.
    OutboundMessage.objects.filter(pk=recipient.message_id).update(
        status=MessageStatus.FAILED, error_code=131026, updated_at=timezone.now()
    )
    assert synced(recipient).status == R.DELIVERED
    assert recipient.error_code is None


def test_statuses_never_lower_a_reply(campaign):
    recipient = sent_recipient(campaign, status=R.REPLIED)
    meta_says(recipient.message, "read")
    assert synced(recipient).status == R.REPLIED


# Each message's statuses, as Meta sends them once; shuffled, a failure may come before the delivery
# (then the message fails) or after it (then it changes nothing).
SEQUENCES = [
    ("sent",),
    ("sent", "delivered"),
    ("sent", "delivered", "read"),
    ("sent", "failed"),
    ("sent", "delivered", "failed"),
    (),  # no word from Meta yet
]


def test_duplicated_and_shuffled_statuses_end_in_the_same_totals_as_a_direct_count(campaign):
    rng = random.Random(19)
    events = []
    for index in range(200):
        recipient = sent_recipient(campaign)
        for status in SEQUENCES[index % len(SEQUENCES)]:
            events += [(recipient.message, status)] * (2 if rng.random() < 0.3 else 1)
    rng.shuffle(events)
    assert len(events) - len(set(events)) > 50  # about 30% duplicated

    for count, (message, status) in enumerate(events, start=1):
        pricing = MARKETING if status in ("delivered", "read") else None
        errors = [UNDELIVERABLE] if status == "failed" else ()
        meta_says(message, status, pricing=pricing, errors=errors)
        if count % 97 == 0:  # beat's syncs, interleaved with the webhooks
            recipients_sync(campaign=campaign)
    totals = campaign_totals_refresh(campaign)

    final = list(
        OutboundMessage.objects.filter(campaign_recipients__campaign=campaign).values_list("status", flat=True)
    )
    direct = Counter(FROM_MESSAGE.get(status, R.PENDING) for status in final)
    assert {status: n for status, n in totals.counts.items() if n} == dict(direct)
    assert sum(totals.counts.values()) == 200
    charged = sum(1 for status in final if status in (MessageStatus.DELIVERED, MessageStatus.READ))
    rate = message_cost(country_code="AE", category="marketing", on=timezone.now().date())
    assert totals.cost == rate * charged
    # The same webhooks again and a full sync change nothing.
    for message, status in events:
        meta_says(message, status, errors=[UNDELIVERABLE] if status == "failed" else ())
    assert recipients_sync(campaign=campaign, full=True) == 0
    assert campaign_totals_refresh(campaign).counts == totals.counts


# Replies


def reply(recipient, *, at, phone_number=None):
    thread, _ = Thread.objects.get_or_create(
        contact=recipient.contact, phone_number=phone_number or recipient.campaign.phone_number
    )
    with transaction.atomic():
        thread_message_record_inbound(
            thread=thread, wamid=f"wamid.reply.{at.timestamp()}", type="text", text="Yes!", payload={}, sent_at=at
        )
    recipient.refresh_from_db()
    return recipient


def delivered_recipient(campaign, *, sent_at):
    recipient = sent_recipient(campaign)
    meta_says(recipient.message, "delivered", at=sent_at, pricing=MARKETING)
    return synced(recipient)


def test_a_reply_within_the_window_marks_the_recipient_replied(campaign):
    sent_at = timezone.now() - timedelta(days=2)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    at = sent_at + timedelta(days=1)
    assert reply(recipient, at=at).status == R.REPLIED
    assert recipient.replied_at == at
    # The status webhooks coming later do not lower it.
    meta_says(recipient.message, "read")
    assert synced(recipient).status == R.REPLIED


def test_a_reply_before_the_sync_saw_the_message_still_counts(campaign):
    sent_at = timezone.now() - timedelta(hours=1)
    recipient = sent_recipient(campaign)
    meta_says(recipient.message, "delivered", at=sent_at)  # no sync yet: the recipient is still pending
    assert reply(recipient, at=timezone.now()).status == R.REPLIED
    assert recipient.sent_at == sent_at


def test_a_reply_after_the_window_is_not_attributed(campaign):
    sent_at = timezone.now() - timedelta(days=10)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    assert reply(recipient, at=sent_at + timedelta(days=7, minutes=1)).status == R.DELIVERED


def test_a_reply_on_another_number_or_before_the_send_is_not_attributed(campaign):
    sent_at = timezone.now() - timedelta(hours=1)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    other_number = PhoneNumberFactory(business_account=campaign.business_account)
    assert reply(recipient, at=timezone.now(), phone_number=other_number).status == R.DELIVERED
    assert reply(recipient, at=sent_at - timedelta(minutes=1)).status == R.DELIVERED


def test_a_reply_to_a_failed_message_is_not_attributed(campaign):
    recipient = sent_recipient(campaign)
    meta_says(recipient.message, "sent", at=timezone.now() - timedelta(hours=1))
    meta_says(recipient.message, "failed", errors=[UNDELIVERABLE])
    assert reply(synced(recipient), at=timezone.now()).status == R.FAILED


# Orders


def order_for(recipient, *, paid_at, total_minor=640_00):
    order = paid_order(contact=recipient.contact, phone_number=recipient.campaign.phone_number, total_minor=total_minor)
    Order.objects.filter(pk=order.pk).update(paid_at=paid_at)
    order.refresh_from_db()
    return order


def test_a_paid_order_within_the_window_marks_the_recipient_ordered_with_its_revenue(campaign):
    sent_at = timezone.now() - timedelta(days=3)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    order = order_for(recipient, paid_at=timezone.now())
    order_paid.send(sender=Order, order=order)
    recipient.refresh_from_db()
    assert (recipient.status, recipient.order, recipient.revenue_minor) == (R.ORDERED, order, order.total_minor)
    assert recipient.ordered_at == order.paid_at


def test_a_second_paid_order_is_not_counted_twice(campaign):
    sent_at = timezone.now() - timedelta(days=1)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    first = order_for(recipient, paid_at=timezone.now() - timedelta(hours=2))
    second = order_for(recipient, paid_at=timezone.now(), total_minor=99_00)
    assert recipient_ordered(order=first) is not None
    assert recipient_ordered(order=first) is None  # the same order told twice
    assert recipient_ordered(order=second) is None
    recipient.refresh_from_db()
    assert (recipient.order, recipient.revenue_minor) == (first, first.total_minor)
    assert campaign_totals_refresh(campaign).revenue_minor == first.total_minor


def test_a_paid_order_after_the_window_is_not_attributed(campaign):
    sent_at = timezone.now() - timedelta(days=9)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    order = order_for(recipient, paid_at=sent_at + timedelta(days=8))
    assert recipient_ordered(order=order) is None
    recipient.refresh_from_db()
    assert (recipient.status, recipient.order) == (R.DELIVERED, None)


def test_the_campaigns_own_attribution_window_applies(campaign):
    campaign.attribution_days = 14
    campaign.save(update_fields=["attribution_days"])
    sent_at = timezone.now() - timedelta(days=12)
    recipient = delivered_recipient(campaign, sent_at=sent_at)
    assert recipient_ordered(order=order_for(recipient, paid_at=timezone.now())) is not None


def test_the_latest_campaign_sent_to_the_contact_takes_the_order(campaign):
    older = delivered_recipient(campaign, sent_at=timezone.now() - timedelta(days=3))
    later_campaign = CampaignFactory(status=CampaignStatus.RUNNING, phone_number=campaign.phone_number)
    later = sent_recipient(later_campaign, contact=older.contact)
    meta_says(later.message, "delivered", at=timezone.now() - timedelta(days=1), pricing=MARKETING)
    order = order_for(older, paid_at=timezone.now())
    assert recipient_ordered(order=order).pk == later.pk
    older.refresh_from_db()
    later.refresh_from_db()
    assert (older.status, later.status) == (R.DELIVERED, R.ORDERED)


def test_an_order_touches_the_totals_of_an_ended_campaign(campaign):
    recipient = delivered_recipient(campaign, sent_at=timezone.now() - timedelta(days=1))
    campaign_totals_refresh(campaign)
    recipient_ordered(order=order_for(recipient, paid_at=timezone.now()))
    totals = CampaignTotals.objects.get(campaign=campaign)
    assert totals.changed_at >= totals.counted_at
