"""A CSV audience in the admin: chosen on the new-campaign form with a parameter from a column, uploaded
on the draft's page (all rows or none, with what was loaded or why not), fixed once it starts."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns.models import Audience, AudienceRow, Campaign, CampaignStatus
from templates_lib.models import TemplateCategory
from tests.campaigns.factories import PARAMS, CampaignFactory
from tests.channels.factories import PhoneNumberFactory
from tests.templates_lib.factories import TemplateFactory
from waco.contacts.models import ConsentEntry, ConsentSource

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:campaigns_campaign_add")
FILE = "phone,code,consent,consent_proof\n971501120001,EID1,yes,Store sign-up sheet 2026-12-01\n971501120002,EID2,,\n"


def staff_with(*codenames: str) -> Client:
    user = User.objects.create_user("-".join(codenames) or "none", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff():
    return staff_with("add_campaign", "change_campaign", "view_campaign")


def csv_file(text: str = FILE) -> SimpleUploadedFile:
    return SimpleUploadedFile("audience.csv", text.encode(), content_type="text/csv")


def upload(client, campaign, text: str = FILE):
    url = reverse("admin:campaigns_campaign_audience", args=[campaign.pk])
    return client.post(url, {"file": csv_file(text)}, follow=True)


def csv_campaign(**kwargs):
    params = dict(PARAMS) | {"order_id": {"source": "csv", "column": "code"}}
    return CampaignFactory(audience=Audience.CSV, params=params, **kwargs)


def test_the_new_form_makes_a_csv_draft_whose_parameter_reads_a_column(staff):
    number = PhoneNumberFactory()
    template = TemplateFactory(business_account=number.business_account, category=TemplateCategory.MARKETING)
    response = staff.post(
        ADD_URL,
        {
            "name": "Eid list",
            "phone_number": number.pk,
            "template": template.pk,
            "audience": Audience.CSV,
            f"p{template.pk}-customer-source": "field",
            f"p{template.pk}-customer-value": "name",
            f"p{template.pk}-order_id-source": "csv",
            f"p{template.pk}-order_id-value": "code",
            "tags_all": "ignored for a csv",
            "quiet_start": "21:00",
            "quiet_end": "09:00",
            "frequency_cap_hours": "24",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert (campaign.audience, campaign.segment) == (Audience.CSV, {})
    assert campaign.params["order_id"] == {"source": "csv", "column": "code"}


def test_an_upload_loads_the_rows_and_the_stated_consent_and_says_so(staff):
    campaign = csv_campaign()
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="form-audience"' in page and "0 row(s) loaded" in page

    html = upload(staff, campaign).content.decode()
    assert "2 row(s) loaded as the audience: 2 new customer(s), 1 consent entr(y/ies)" in html
    assert "2 row(s) loaded." in html
    assert AudienceRow.objects.filter(campaign=campaign).count() == 2
    [entry] = ConsentEntry.objects.all()
    assert (entry.contact.wa_id, entry.source) == ("971501120001", ConsentSource.IMPORT)


def test_a_bad_file_is_refused_on_the_page_and_nothing_is_stored(staff):
    campaign = csv_campaign()
    html = upload(staff, campaign, "phone,code\n971501120003,A\nnot a number,B\n").content.decode()
    assert "The file was refused: Line 3:" in html
    assert not AudienceRow.objects.exists()


def test_once_started_the_page_offers_no_upload_and_a_post_is_refused(staff):
    campaign = csv_campaign()
    upload(staff, campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.RUNNING)
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="form-audience"' not in page and "2 row(s) loaded." in page
    assert "fixed once it leaves draft" in upload(staff, campaign, "phone,code\n971501120009,Z\n").content.decode()
    assert AudienceRow.objects.filter(campaign=campaign).count() == 2


def test_a_view_only_user_cannot_upload():
    campaign = csv_campaign()
    viewer = staff_with("view_campaign")
    page = viewer.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="form-audience"' not in page
    url = reverse("admin:campaigns_campaign_audience", args=[campaign.pk])
    assert viewer.post(url, {"file": csv_file()}).status_code == 403
    assert not AudienceRow.objects.exists()
