"""A CSV audience: rows name customers by phone or BSUID, fill the template from their columns, and
append consent to the ledger only where the file states it with proof. A bad file stores nothing."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.audience_csv import audience_csv_load
from campaigns.expansion import campaign_expand, campaign_preview
from campaigns.models import Audience, AudienceRow, CampaignStatus, RecipientStatus, SkipReason
from tests.campaigns.factories import PARAMS, CampaignFactory, consent, opted_in_contact
from tests.contacts.factories import ContactFactory
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ConsentSource, Contact

pytestmark = pytest.mark.django_db

CODE_FROM_CSV = dict(PARAMS) | {"order_id": {"source": "csv", "column": "Code"}}


def csv_campaign(**kwargs):
    return CampaignFactory(audience=Audience.CSV, params=CODE_FROM_CSV, **kwargs)


def load(campaign, text: str):
    return audience_csv_load(campaign=campaign, data=text.encode())


def recipients(campaign) -> dict:
    """wa_id -> (status, skip reason, params)."""
    return {r.contact.wa_id: (r.status, r.skip_reason, r.params) for r in campaign.recipients.select_related("contact")}


def test_rows_become_recipients_with_their_columns_and_consent_still_decides():
    known = opted_in_contact(wa_id="971501110001", name="Amal")
    campaign = csv_campaign()
    loaded = load(campaign, "phone,code\n971501110001,AMAL20\n+971 50 111 0002,NEW10\n")
    assert (loaded.rows, loaded.contacts_created, loaded.consents_recorded) == (2, 1, 0)

    campaign_expand(campaign=campaign)
    assert recipients(campaign) == {
        known.wa_id: (RecipientStatus.PENDING, "", {"customer": "Amal", "order_id": "AMAL20"}),
        # on the list but never agreed: a row is no consent
        "971501110002": (RecipientStatus.SKIPPED, SkipReason.NO_CONSENT, {}),
    }


def test_a_consent_column_with_proof_appends_import_entries_to_the_ledger():
    campaign = csv_campaign()
    load(
        campaign,
        "phone,code,consent,consent_proof\n"
        "971501110003,A1,yes,Signed up in store 2026-11-30\n"
        "971501110004,A2,no,\n"
        "971501110005,A3,,\n",
    )
    entries = {
        e.contact.wa_id: (e.category, e.action, e.source, e.proof)
        for e in ConsentEntry.objects.select_related("contact")
    }
    assert entries == {
        "971501110003": (
            ConsentCategory.MARKETING,
            ConsentAction.OPT_IN,
            ConsentSource.IMPORT,
            "Signed up in store 2026-11-30",
        ),
        "971501110004": (ConsentCategory.MARKETING, ConsentAction.OPT_OUT, ConsentSource.IMPORT, ""),
    }
    campaign_expand(campaign=campaign)
    assert {wa_id: status[:2] for wa_id, status in recipients(campaign).items()} == {
        "971501110003": (RecipientStatus.PENDING, ""),
        "971501110004": (RecipientStatus.SKIPPED, SkipReason.OPTED_OUT),
        "971501110005": (RecipientStatus.SKIPPED, SkipReason.NO_CONSENT),
    }


def test_an_earlier_opt_out_is_not_undone_without_a_yes_in_the_file():
    contact = opted_in_contact(wa_id="971501110006")
    consent(contact, action=ConsentAction.OPT_OUT, days_ago=0)
    campaign = csv_campaign()
    load(campaign, "phone,code\n971501110006,X\n")
    campaign_expand(campaign=campaign)
    assert recipients(campaign)["971501110006"][:2] == (RecipientStatus.SKIPPED, SkipReason.OPTED_OUT)


def test_a_bsuid_names_a_known_customer_and_an_unknown_one_refuses_the_file():
    known = ContactFactory(wa_id="", user_id="AE.1234567890123456")
    campaign = csv_campaign()
    assert load(campaign, "bsuid,code\nAE.1234567890123456,B1\n").rows == 1
    assert AudienceRow.objects.get(campaign=campaign).contact == known

    with pytest.raises(ValidationError, match="No customer has the BSUID of line"):
        load(campaign, "bsuid,code\nAE.9999999999999999,B1\n")
    assert AudienceRow.objects.get(campaign=campaign).contact == known  # the first upload stands


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("name,code\nAmal,A\n", "needs a phone or a bsuid column"),
        ("phone\n971501110007\n", "columns the file lacks: code"),
        ("phone,code,consent\n971501110007,A,yes\n", "needs a consent_proof column"),
        ("phone,code\n12,A\n", "Line 2: 12 is not a wa_id"),
        ("phone,code,consent,consent_proof\n971501110007,A,yes,\n", "Line 2: consent yes needs its proof"),
        ("phone,code,consent,consent_proof\n971501110007,A,maybe,x\n", "Line 2: consent is yes, no or blank"),
        ("phone,code\n971501110007,A\n+971501110007,B\n", "Line 3: the same customer as line 2"),
        ("phone,code\n", "a header and no rows"),
    ],
)
def test_a_bad_file_is_refused_with_its_lines_and_stores_nothing(text, error):
    campaign = csv_campaign()
    contacts_before = Contact.objects.count()
    with pytest.raises(ValidationError) as refused:
        load(campaign, text)
    assert any(error in message for message in refused.value.messages), refused.value.messages
    assert not AudienceRow.objects.exists()
    assert Contact.objects.count() == contacts_before
    assert not ConsentEntry.objects.exists()


def test_one_bad_line_among_good_ones_stores_none_of_them():
    campaign = csv_campaign()
    with pytest.raises(ValidationError, match="Line 3"):
        load(campaign, "phone,code,consent,consent_proof\n971501110009,A,yes,form\nnot a number,B,,\n")
    assert not AudienceRow.objects.exists() and not ConsentEntry.objects.exists()
    assert not Contact.objects.filter(wa_id="971501110009").exists()


def test_a_new_upload_replaces_the_draft_audience_and_a_started_one_is_fixed():
    campaign = csv_campaign()
    load(campaign, "phone,code\n971501110010,A\n971501110011,B\n")
    load(campaign, "phone,code\n971501110012,C\n")
    assert list(campaign.audience_rows.values_list("contact__wa_id", flat=True)) == ["971501110012"]

    campaign.status = CampaignStatus.RUNNING
    campaign.save()
    with pytest.raises(ValidationError, match="fixed once it leaves draft"):
        load(campaign, "phone,code\n971501110013,D\n")
    assert list(campaign.audience_rows.values_list("contact__wa_id", flat=True)) == ["971501110012"]


def test_the_preview_counts_a_csv_audience_like_a_segment():
    opted_in_contact(wa_id="971501110014")
    campaign = csv_campaign()
    load(campaign, "phone,code\n971501110014,A\n971501110015,B\n")
    preview = campaign_preview(campaign=campaign)
    assert (preview.would_send, dict(preview.skipped)) == (1, {SkipReason.NO_CONSENT: 1})


def test_a_segment_campaign_takes_no_csv():
    with pytest.raises(ValidationError, match="audience is a segment"):
        load(CampaignFactory(), "phone\n971501110016\n")
