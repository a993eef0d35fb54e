"""Staff make a CSV campaign in the admin: choose the CSV audience and a column for a parameter,
upload a file with a bad line (refused, nothing stored, the line named), then the right file: the
rows, the preview and the consent stated in the file, on a desktop and on a phone."""

import importlib
import os
import shutil
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model

from campaigns.models import Audience, AudienceRow, Campaign
from outbound.models import PriceRate
from templates_lib.models import TemplateCategory
from tests.channels.factories import PhoneNumberFactory
from tests.support.browser import admin_log_in, screenshot
from tests.templates_lib.factories import TemplateFactory
from waco.contacts.models import ConsentEntry, ConsentSource

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "a-strong-staff-password-123"
SHOTS = Path("/tmp/campaign-shots")
SEED = importlib.import_module("outbound.migrations.0008_price_rates")
SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
BAD = "phone,code\n971501130001,EID1\nnot a number,EID2\n"
GOOD = (
    "phone,code,consent,consent_proof\n"
    "971501130001,EID1,yes,In-store sign-up sheet 2026-12-01\n"
    "971501130002,EID2,,\n"
    "+971 50 113 0003,EID3,yes,Website form 2026-11-20\n"
)


def shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, f"campaign-csv-{name}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def test_staff_upload_a_csv_audience_and_see_what_it_holds(page, live_server, transactional_db, tmp_path):
    if not PriceRate.objects.filter(market="United Arab Emirates").exists():
        SEED.seed(apps, None)  # transactional tests empty every table, data migrations' rows included
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)
    number = PhoneNumberFactory(display_phone_number="+971 4 555 0100")
    template = TemplateFactory(
        business_account=number.business_account, name="eid", category=TemplateCategory.MARKETING
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    admin_log_in(page, live_server.url, PASSWORD, next_path="/admin/campaigns/campaign/add/")

    page.fill("#id_name", "Eid list")
    page.select_option("#id_phone_number", str(number.pk))
    page.select_option("#id_template", str(template.pk))
    page.select_option("#id_audience", Audience.CSV)
    page.select_option(f"#p{template.pk}-customer-source", "field")
    page.fill(f"#p{template.pk}-customer-value", "name")
    page.fill(f"#p{template.pk}-customer-default", "there")
    page.select_option(f"#p{template.pk}-order_id-source", "csv")
    page.fill(f"#p{template.pk}-order_id-value", "code")
    page.click("#campaign-save")
    campaign = Campaign.objects.get()
    page.wait_for_url(f"**/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.inner_text("#audience-rows") == "0 row(s) loaded."

    bad, good = tmp_path / "bad.csv", tmp_path / "eid.csv"
    bad.write_text(BAD)
    good.write_text(GOOD)
    page.set_input_files("#audience-file", str(bad))
    page.click("#do-upload")
    page.wait_for_selector("#audience-rows")
    assert "The file was refused: Line 3:" in page.inner_text("#action-result")
    assert not AudienceRow.objects.exists()
    shot(page, "1-refused-1440")

    page.set_input_files("#audience-file", str(good))
    page.click("#do-upload")
    page.wait_for_selector("#audience-rows:has-text('3 row(s) loaded.')")
    assert "3 new customer(s), 2 consent entr(y/ies)" in page.inner_text("#action-result")
    assert page.inner_text("#preview-send") == "2"  # the one without a yes has no consent
    assert "no consent for the template's category: 1" in page.inner_text("#preview-skipped")
    assert sorted(ConsentEntry.objects.values_list("contact__wa_id", "source")) == [
        ("971501130001", ConsentSource.IMPORT),
        ("971501130003", ConsentSource.IMPORT),
    ]
    shot(page, "2-loaded-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(SIDEWAYS), "the campaign's page scrolls sideways on a phone"
    shot(page, "2-loaded-390")
