"""An opt-out during a campaign: the customer's recipients not yet handed over are skipped at once, and
a campaign message already waiting in the outbox is refused at send time (outbound's re-check), so
nothing of the campaign reaches them after they said stop."""

import pytest
from django.utils import timezone

from campaigns.models import CampaignStatus, RecipientStatus, SkipReason
from campaigns.outcomes import recipients_sync
from campaigns.sending import campaign_send_due
from outbound import services
from outbound.models import MessageStatus, SendAttempt
from templates_lib.models import TemplateCategory
from tests.campaigns.factories import consent, opted_in_contact, running_campaign, sandbox_campaign
from tests.support.chat import Chat
from tests.support.drain import wait_drained
from tests.support.shopper import Shopper
from tests.workers import wait_until
from waco.celery_config import QUEUE_MARKETING
from waco.contacts.models import ConsentCategory
from waco.sandbox import services as sandbox

S = CampaignStatus
CUSTOMER = "971501230091"
ring = services.outbox_ring  # the real doorbell, kept before a test silences the one enqueue uses


@pytest.mark.django_db
def test_saying_stop_skips_the_customers_pending_recipients_in_running_and_paused_campaigns(seed_keywords):
    customer = opted_in_contact(wa_id=CUSTOMER)
    consent(customer, category=ConsentCategory.UTILITY)
    running = running_campaign()
    paused = running_campaign(phone_number=running.phone_number, status=S.PAUSED)
    notice = running_campaign(  # a utility notice needs utility consent, which the customer keeps
        phone_number=running.phone_number,
        transactional=True,
        template__category=TemplateCategory.UTILITY,
    )
    assert all(c.recipients.get(contact=customer).status == RecipientStatus.PENDING for c in (running, paused, notice))

    Chat(running.phone_number, wa_id=CUSTOMER).says("stop")

    for campaign in (running, paused):
        recipient = campaign.recipients.get(contact=customer)
        assert (recipient.status, recipient.skip_reason, recipient.message) == (
            RecipientStatus.SKIPPED,
            SkipReason.OPTED_OUT,
            None,
        )
    assert notice.recipients.get(contact=customer).status == RecipientStatus.PENDING
    assert campaign_send_due(campaign=running, now=timezone.now()).enqueued == 0


def template_calls(wa_id: str) -> list[dict]:
    return [item for item in sandbox.outbox_list(config=sandbox.config_get(), to=wa_id) if item["type"] == "template"]


@pytest.mark.worker
def test_no_campaign_message_reaches_a_customer_after_they_say_stop(worker_shop, monkeypatch):
    shopper = Shopper(worker_shop, CUSTOMER)
    shopper.says("hi")
    consent(worker_shop.contact(CUSTOMER))  # yes to offers, yesterday
    campaign = sandbox_campaign(worker_shop)
    later = running_campaign(phone_number=worker_shop.number, template=campaign.template)  # its turn not yet come

    # The first campaign hands its message to the outbox; the drain is held, so it waits there.
    monkeypatch.setattr(services, "outbox_ring", lambda *args, **kwargs: None)
    assert campaign_send_due(campaign=campaign, now=timezone.now()).enqueued == 1
    waiting = campaign.recipients.get(contact__wa_id=CUSTOMER)
    assert waiting.message.status == MessageStatus.QUEUED

    shopper.says("stop")  # through the sandbox and the worker: the opt-out and its confirmation
    skipped = later.recipients.get(contact__wa_id=CUSTOMER)
    assert (skipped.status, skipped.skip_reason) == (RecipientStatus.SKIPPED, SkipReason.OPTED_OUT)

    ring(QUEUE_MARKETING, force=True)  # the held drain now claims the campaign's message
    message = waiting.message

    def decided():
        message.refresh_from_db()
        return message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING)

    wait_until(decided, timeout=30, message="the campaign message to be decided")
    assert (message.status, message.error_class) == (MessageStatus.FAILED, "policy")
    assert not SendAttempt.objects.filter(message=message).exists()
    assert campaign_send_due(campaign=later, now=timezone.now()).enqueued == 0
    wait_drained(timeout=60)

    recipients_sync(campaign=campaign)  # beat's count: the recipient follows its message
    waiting.refresh_from_db()
    assert waiting.status == RecipientStatus.FAILED
    assert "no marketing consent" in waiting.error_title
    assert template_calls(CUSTOMER) == []
