"""The campaign pages of the admin: the new-campaign form (errors on the form, nothing stored; then a
draft), the campaign's page (preview, the buttons its status allows, each calling the services with
staff as the cause), who may press them, and the progress endpoint's bounded queries."""

import importlib
import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.expansion import campaign_expand
from campaigns.models import Campaign, CampaignChange, CampaignRecipient, CampaignStatus, RecipientStatus
from campaigns.outcomes import campaign_totals_refresh
from outbound.models import PriceRate
from outbound.pricing import message_cost
from templates_lib.models import TemplateCategory, TemplateStatus
from tests.campaigns.factories import CampaignFactory, CampaignRecipientFactory, opted_in_contact
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.templates_lib.factories import TemplateFactory

pytestmark = pytest.mark.django_db

SEED = importlib.import_module("outbound.migrations.0008_price_rates")
ADD_URL = reverse("admin:campaigns_campaign_add")


@pytest.fixture(autouse=True)
def seeded_rates(db):
    """Transactional tests empty every table, data migrations' rows included: put the seed back."""
    if not PriceRate.objects.filter(market="United Arab Emirates").exists():
        SEED.seed(apps, None)


def user_with(username: str, *codenames: str) -> Client:
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns", codename__in=codenames))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def staff():
    return user_with("operations", "add_campaign", "change_campaign", "view_campaign")


@pytest.fixture
def viewer():
    return user_with("viewer", "view_campaign")


@pytest.fixture
def number():
    return PhoneNumberFactory()


@pytest.fixture
def template(number):
    return TemplateFactory(business_account=number.business_account, category=TemplateCategory.MARKETING, name="sale")


def posted(number, template, **overrides) -> dict:
    data = {
        "name": "Eid sale",
        "phone_number": number.pk,
        "template": template.pk,
        f"p{template.pk}-customer-source": "field",
        f"p{template.pk}-customer-value": "name",
        f"p{template.pk}-customer-default": "there",
        f"p{template.pk}-order_id-source": "constant",
        f"p{template.pk}-order_id-value": "EID20",
        "tags_all": "vip, gold",
        "countries": "ae",
        "not_ordered_within_days": "30",
        "quiet_start": "21:00",
        "quiet_end": "09:00",
        "frequency_cap_hours": "24",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def status_url(campaign, name: str) -> str:
    return reverse("admin:campaigns_campaign_status", args=[campaign.pk, name])


def change_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


# --- the new-campaign form


def test_the_form_offers_approved_templates_only_and_the_default_quiet_hours(staff, number, template):
    TemplateFactory(business_account=number.business_account, name="in_review", status=TemplateStatus.SUBMITTED)
    page = staff.get(ADD_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{template.pk}"' in html and "sale (en_US, marketing)" in html
    assert "in_review" not in html
    assert 'value="21:00"' in html and 'value="09:00"' in html
    assert f'name="p{template.pk}-customer-source"' in html


def test_errors_show_on_the_form_and_nothing_is_stored(staff, number, template):
    data = posted(
        number,
        template,
        countries="AE, ZZ",
        **{f"p{template.pk}-order_id-source": ""},  # no source chosen for order_id
        ends_at="2026-01-01T10:00",
        starts_at="2026-01-02T10:00",
    )
    page = staff.post(ADD_URL, data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nothing was saved" in html
    assert "No source for the template&#x27;s parameters: order_id." in html
    assert "Unknown country codes: ZZ." in html
    assert "The end must come after the start." in html
    assert 'value="Eid sale"' in html  # what was typed is kept
    assert Campaign.objects.count() == 0


def test_a_utility_template_needs_the_transactional_box(staff, number):
    utility = TemplateFactory(business_account=number.business_account, category=TemplateCategory.UTILITY)
    html = staff.post(ADD_URL, posted(number, utility)).content.decode()
    assert "mark the campaign transactional" in html
    assert Campaign.objects.count() == 0
    assert staff.post(ADD_URL, posted(number, utility, transactional="on")).status_code == 302


def test_a_template_of_another_account_is_refused(staff, number):
    other = TemplateFactory(category=TemplateCategory.MARKETING)
    html = staff.post(ADD_URL, posted(number, other)).content.decode()
    assert "The template belongs to another business account." in html
    assert Campaign.objects.count() == 0


def test_a_valid_form_makes_a_draft_with_its_segment_and_params(staff, number, template):
    response = staff.post(ADD_URL, posted(number, template, starts_at="2030-05-01T10:00"))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == change_url(campaign)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.business_account == number.business_account
    assert campaign.segment == {"tags_all": ["vip", "gold"], "countries": ["AE"], "not_ordered_within_days": 30}
    assert campaign.params == {
        "customer": {"source": "field", "key": "name", "default": "there"},
        "order_id": {"source": "constant", "value": "EID20"},
    }
    assert campaign.starts_at.year == 2030 and campaign.created_by == staff.user
    first = campaign.changes.get()
    assert (first.to_state, first.cause, first.actor) == ("draft", "staff", staff.user)


def test_the_new_page_follows_the_add_permission(viewer, number, template):
    changer = user_with("changer", "change_campaign", "view_campaign")
    for client in (viewer, changer):
        assert client.get(ADD_URL).status_code == 403
        assert client.post(ADD_URL, posted(number, template)).status_code == 403
    assert Campaign.objects.count() == 0


# --- the campaign's page


def audience():
    return [opted_in_contact() for _ in range(3)] + [ContactFactory()]  # three to send, one without consent


def test_a_draft_shows_its_preview_with_the_cost_and_the_buttons_it_allows(staff, template):
    audience()
    campaign = CampaignFactory(
        template=template, phone_number=PhoneNumberFactory(business_account=template.business_account)
    )
    html = staff.get(change_url(campaign)).content.decode()
    rate = message_cost(country_code="AE", category="marketing", on=timezone.now().date())
    cost = (rate * 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert '<dd id="preview-send">3</dd>' in html
    assert "no consent for the template&#x27;s category: 1" in html
    assert f"{cost} USD" in html
    assert 'id="do-start"' in html and 'id="do-cancel"' in html
    assert 'id="do-pause"' not in html and 'id="do-resume"' not in html
    assert 'id="do-schedule"' not in html  # no start time to wait for
    assert not campaign.recipients.exists()  # a preview writes nothing


def test_start_runs_with_staff_as_the_cause_and_leaves_the_expansion_to_a_worker(
    staff, django_capture_on_commit_callbacks, monkeypatch
):
    audience()
    campaign = CampaignFactory()
    rung = []
    monkeypatch.setattr("campaigns.control.campaign_send_ring", rung.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(status_url(campaign, "start"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and rung == [campaign.pk]
    assert not campaign.expansion_done and not campaign.recipients.exists()  # the request expanded nothing

    campaign_expand(campaign=campaign)  # the worker's turn (campaigns.sending.campaign_run)
    assert campaign.recipients.filter(status=RecipientStatus.PENDING).count() == 3
    assert campaign.recipients.filter(status=RecipientStatus.SKIPPED).count() == 1
    change = CampaignChange.objects.get(campaign=campaign, transition="start")
    assert (change.cause, change.actor) == ("staff", staff.user)
    page = staff.get(change_url(campaign)).content.decode()
    assert "is now running" in page
    assert 'id="do-pause"' in page and 'id="do-start"' not in page and 'id="campaign-preview"' not in page


def test_pause_resume_and_a_confirmed_cancel(staff):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    CampaignRecipientFactory.create_batch(2, campaign=campaign)
    staff.post(status_url(campaign, "pause"), {"reason": "checking the stock"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED and campaign.paused_reason == "checking the stock"
    page = staff.get(change_url(campaign)).content.decode()
    assert 'id="do-resume"' in page and 'id="do-pause"' not in page

    staff.post(status_url(campaign, "resume"))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and campaign.paused_reason == ""

    confirm = staff.post(status_url(campaign, "cancel"))
    assert confirm.status_code == 200
    assert '<dd id="confirm-pending">2 pending recipient(s)' in confirm.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING  # asked, not done

    staff.post(status_url(campaign, "cancel"), {"confirm": "yes"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    causes = list(campaign.changes.order_by("pk").values_list("transition", "cause"))
    assert causes == [("pause", "staff"), ("resume", "staff"), ("cancel", "staff")]
    assert 'id="do-' not in staff.get(change_url(campaign)).content.decode()  # nothing fits a cancelled one


def test_a_button_the_status_does_not_allow_changes_nothing(staff):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    response = staff.post(status_url(campaign, "resume"), follow=True)
    assert "cannot resume" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and not campaign.changes.exists()
    assert staff.post(status_url(campaign, "no-such-button")).status_code == 404
    assert staff.get(status_url(campaign, "pause")).status_code == 405


def test_schedule_is_offered_for_a_start_time_to_come(staff):
    campaign = CampaignFactory(starts_at=timezone.now() + timedelta(days=1))
    assert 'id="do-schedule"' in staff.get(change_url(campaign)).content.decode()
    staff.post(status_url(campaign, "schedule"))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_a_view_only_user_sees_no_button_and_every_post_is_refused(viewer):
    for status in (CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED):
        campaign = CampaignFactory(status=status)
        page = viewer.get(change_url(campaign))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="do-' not in html and 'id="campaign-actions"' not in html
        assert 'id="campaign-progress"' in html
        for name in ("start", "schedule", "pause", "resume", "cancel"):
            assert viewer.post(status_url(campaign, name), {"confirm": "yes"}).status_code == 403
        campaign.refresh_from_db()
        assert campaign.status == status
    assert viewer.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).status_code == 200


def test_without_any_campaign_permission_the_progress_is_refused():
    stranger = user_with("stranger")
    campaign = CampaignFactory()
    assert stranger.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).status_code == 403


# --- the progress


def test_the_progress_counts_sent_or_beyond_of_all_to_send(staff):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    statuses = ["pending", "pending", "sent", "delivered", "read", "failed", "skipped"]
    for status in statuses:
        CampaignRecipientFactory(
            campaign=campaign, status=status, skip_reason="no_consent" if status == "skipped" else ""
        )
    data = json.loads(staff.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).content)
    assert data["status"] == "running" and data["poll"] is True
    assert 'value="4"' in data["html"] and 'max="6"' in data["html"]  # 4 tried of 6 to send (1 skipped)
    assert "66%" in data["html"]
    assert '<strong id="count-pending">2</strong>' in data["html"]
    assert "no consent for the template&#x27;s category: 1" in data["html"]


def test_a_page_view_reads_the_rollup_and_never_counts_the_recipients_again(staff):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    recipients = CampaignRecipientFactory.create_batch(4, campaign=campaign)
    url = reverse("admin:campaigns_campaign_progress", args=[campaign.pk])
    assert "0 of 4" in json.loads(staff.get(url).content)["html"]  # never counted: counted now
    CampaignRecipient.objects.filter(pk__in=[r.pk for r in recipients[:2]]).update(status=RecipientStatus.SENT)
    assert "0 of 4" in json.loads(staff.get(url).content)["html"]  # the page read the rollup
    campaign_totals_refresh(campaign)  # beat's count
    assert "2 of 4" in json.loads(staff.get(url).content)["html"]


def progress_queries(client, recipients: int) -> int:
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    statuses = ["pending", "sent", "delivered", "failed", "skipped"]
    for index in range(recipients):
        CampaignRecipientFactory(campaign=campaign, status=statuses[index % len(statuses)])
    url = reverse("admin:campaigns_campaign_progress", args=[campaign.pk])
    client.get(url)  # the session is warm
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_progress_endpoint_takes_the_same_few_queries_for_10_or_200_recipients(staff):
    few, many = progress_queries(staff, 10), progress_queries(staff, 200)
    assert few == many <= 7  # session, user, its permissions, the campaign, its totals
