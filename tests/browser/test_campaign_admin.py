"""Staff create a campaign from a segment in the admin, see the preview and its cost, start it, watch
its progress move without a reload, and pause it; on a desktop and on a phone (no sideways scroll).

No worker runs: the recipients' messages get their statuses straight in the database, as Meta's
webhooks would leave them, beat's count (campaigns.outcomes.count_outcomes) is called in-process,
and the page's 2 s poll picks the new totals up."""

import importlib
import os
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns.expansion import campaign_expand
from campaigns.models import Campaign, CampaignStatus, RecipientStatus
from campaigns.outcomes import count_outcomes
from outbound.models import MessageCategory, MessageStatus, OutboundMessage, PriceRate
from outbound.pricing import message_cost
from templates_lib.models import TemplateCategory
from tests.campaigns.factories import opted_in_contact
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.support.browser import admin_log_in, screenshot
from tests.templates_lib.factories import TemplateFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM must be told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"
SHOTS = Path("/tmp/campaign-shots")
SEED = importlib.import_module("outbound.migrations.0008_price_rates")
SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def shop(transactional_db):
    """A number, its approved marketing template, and contacts: four VIPs who opted in, a VIP who did
    not, and a customer outside the segment."""
    if not PriceRate.objects.filter(market="United Arab Emirates").exists():
        SEED.seed(apps, None)  # transactional tests empty every table, data migrations' rows included
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)
    number = PhoneNumberFactory(display_phone_number="+971 4 555 0100")
    template = TemplateFactory(
        business_account=number.business_account, name="eid_sale", category=TemplateCategory.MARKETING
    )
    for _ in range(4):
        opted_in_contact(tags=["vip"])
    ContactFactory(tags=["vip"])  # no consent: skipped
    opted_in_contact(tags=["regular"])  # not in the segment
    return number, template


def meta_said(recipient, status: str) -> None:
    """The recipient's message, queued by the sender and now at `status` by Meta's webhooks."""
    contact = recipient.contact
    recipient.message = OutboundMessage.objects.create(
        phone_number=recipient.campaign.phone_number,
        contact=contact,
        recipient=contact.wa_id,
        category=MessageCategory.MARKETING,
        purpose="campaign",
        content={"type": "template"},
        template_name=recipient.campaign.template.name,
        subject_type="campaign",
        subject_id=str(recipient.pk),
        status=status,
        wamid=f"wamid.campaign.{recipient.pk}",
        sent_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    recipient.save(update_fields=["message"])


def shot(page, name: str) -> Path:
    """A full-page screenshot in artifacts/, copied to /tmp/campaign-shots/."""
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, f"campaign-{name}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
    return path


def test_staff_create_preview_start_watch_and_pause_a_campaign(page, live_server, shop):
    number, template = shop
    page.set_viewport_size({"width": 1440, "height": 900})
    admin_log_in(page, live_server.url, PASSWORD, next_path="/admin/campaigns/campaign/add/")

    # The form: the number, its template, where each parameter comes from, the segment.
    page.fill("#id_name", "Eid VIP sale")
    page.select_option("#id_phone_number", str(number.pk))
    page.select_option("#id_template", str(template.pk))
    page.select_option(f"#p{template.pk}-customer-source", "field")
    page.fill(f"#p{template.pk}-customer-value", "name")
    page.fill(f"#p{template.pk}-customer-default", "there")
    page.select_option(f"#p{template.pk}-order_id-source", "constant")
    page.fill(f"#p{template.pk}-order_id-value", "EID20")
    page.fill("#id_tags_all", "vip")
    page.fill("#id_countries", "ZZ")  # a mistake first: shown on the form, nothing stored
    page.click("#campaign-save")
    assert "Unknown country codes: ZZ." in page.inner_text("#segment-errors")
    assert Campaign.objects.count() == 0
    assert page.input_value("#id_name") == "Eid VIP sale"
    page.fill("#id_countries", "AE")
    shot(page, "1-new-form-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(SIDEWAYS), "the new-campaign form scrolls sideways on a phone"
    shot(page, "1-new-form-390")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.click("#campaign-save")

    # The draft's page: the preview counts and prices, nothing is written yet.
    campaign = Campaign.objects.get()
    page.wait_for_url(f"**/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.inner_text("#campaign-status") == "Draft"
    assert page.inner_text("#preview-send") == "4"
    assert "no consent for the template's category: 1" in page.inner_text("#preview-skipped")
    rate = message_cost(country_code="AE", category="marketing", on=timezone.now().date())
    assert f"{(rate * 4).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} USD" in page.inner_text("#preview-cost")
    assert not campaign.recipients.exists()
    shot(page, "2-draft-preview-1440")

    # Start: the campaign runs, a worker expands its audience, and its page follows its progress.
    page.click("#do-start")
    page.wait_for_selector("#campaign-status.running")
    assert "is now running" in page.inner_text("#action-result")
    assert "a worker is expanding the audience" in page.inner_text("#campaign-outcomes")
    campaign_expand(campaign=campaign)  # the worker's turn (campaigns.sending.campaign_run)
    count_outcomes()
    page.wait_for_selector("#campaign-percent:has-text('0 of 4')")  # the poll, no reload
    pending = list(campaign.recipients.filter(status=RecipientStatus.PENDING).order_by("pk"))
    assert len(pending) == 4
    for recipient, status in zip(pending, [MessageStatus.SENT, MessageStatus.DELIVERED], strict=False):
        meta_said(recipient, status)
    count_outcomes()  # beat's count: the recipients follow their messages, the totals are counted
    page.wait_for_selector("#campaign-percent:has-text('50%')")  # the poll, no reload
    assert page.inner_text("#count-delivered") == "1"
    shot(page, "3-running-progress-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(SIDEWAYS), "the campaign's page scrolls sideways on a phone"
    shot(page, "3-running-progress-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    # Pause, with a reason; only Resume and Cancel are offered then.
    page.fill("#pause-reason", "Checking the stock")
    page.click("#do-pause")
    page.wait_for_selector("#campaign-status.paused")
    assert "Checking the stock" in page.inner_text("#campaign-paused-reason")
    assert page.locator("#do-resume").count() == 1 and page.locator("#do-pause").count() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    shot(page, "4-paused-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(SIDEWAYS)
    shot(page, "4-paused-390")

    # Cancel asks first.
    page.click("#do-cancel")
    assert "2 pending recipient(s)" in page.inner_text("#confirm-pending")
    shot(page, "5-cancel-confirm-390")
    page.click("#confirm-no")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
