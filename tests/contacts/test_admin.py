"""Contacts in the admin: every contact page opens (with or without windows and consent), and the
consent ledger is append-only there: a correction is a new entry, never an edit or a delete."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from waco.contacts import services
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ConsentSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def opted_in():
    contact = ContactFactory(profile_name="Amal")
    services.window_touch(
        contact=contact, phone_number=PhoneNumberFactory(), inbound_at=timezone.now() - timedelta(hours=2)
    )
    entry = services.consent_record(
        contact=contact,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.THREAD,
        recorded_at=timezone.now() - timedelta(days=1),
    )
    return entry


def test_a_contact_page_opens_with_no_window_and_no_consent(admin_client):
    contact = ContactFactory()
    assert admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).status_code == 200


def test_a_contact_page_shows_its_window_and_ledger_read_only(admin_client, opted_in):
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[opted_in.contact.pk])).content.decode()
    assert "Opt" in page and "consent_entries-0-action" not in page  # shown, not a form field
    assert "consent_entries-__prefix__" not in page and "service_windows-__prefix__" not in page  # no add row
    assert "consent_entries-0-DELETE" not in page


def test_an_entry_cannot_be_edited_or_deleted(admin_client, opted_in):
    change = reverse("admin:contacts_consententry_change", args=[opted_in.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="_save"' not in page and 'name="action"' not in page
    admin_client.post(change, {"action": ConsentAction.OPT_OUT})
    assert admin_client.get(reverse("admin:contacts_consententry_delete", args=[opted_in.pk])).status_code == 403
    admin_client.post(
        reverse("admin:contacts_consententry_changelist"),
        {"action": "delete_selected", "_selected_action": [opted_in.pk], "post": "yes"},
    )
    assert list(ConsentEntry.objects.values_list("action", flat=True)) == [ConsentAction.OPT_IN]


def test_a_correction_is_a_new_entry_recorded_as_the_admin_s(admin_client, admin_user, opted_in):
    response = admin_client.post(
        reverse("admin:contacts_consententry_add"),
        {
            "contact": opted_in.contact.pk,
            "category": ConsentCategory.MARKETING,
            "action": ConsentAction.OPT_OUT,
            "recorded_at_0": timezone.now().strftime("%Y-%m-%d"),
            "recorded_at_1": timezone.now().strftime("%H:%M:%S"),
            "reference": "",
        },
    )
    assert response.status_code == 302
    newest = services.consent_current(contact=opted_in.contact, category=ConsentCategory.MARKETING)
    assert (newest.action, newest.source, newest.reference) == (
        ConsentAction.OPT_OUT,
        ConsentSource.ADMIN,
        f"by {admin_user.username}",
    )
    assert ConsentEntry.objects.count() == 2 and not services.consent_is_granted(
        contact=opted_in.contact, category=ConsentCategory.MARKETING
    )
