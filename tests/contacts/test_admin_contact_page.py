"""The contact page survives what a working day brings: a contact with service windows, and a posted
form with an empty (or made-up) inline row. Both once answered 500."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from waco.contacts import services as contacts
from waco.contacts.admin import ServiceWindowInline
from waco.contacts.models import Contact, ContactAlias, ServiceWindow

pytestmark = pytest.mark.django_db


def change_url(contact):
    return reverse("admin:contacts_contact_change", args=[contact.pk])


def management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def windowed():
    """A contact who wrote an hour ago to one number and two days ago to another."""
    contact = ContactFactory(profile_name="Amal", tags=["vip"], attributes={"tier": "gold"})
    now = timezone.now()
    contacts.window_touch(contact=contact, phone_number=PhoneNumberFactory(), inbound_at=now - timedelta(hours=1))
    contacts.window_touch(contact=contact, phone_number=PhoneNumberFactory(), inbound_at=now - timedelta(days=2))
    return contact


def form_data(contact, **extra) -> dict:
    return {
        "name": "Amal M.",
        "language": "",
        "time_zone": "",
        "tags": '["vip"]',
        "attributes": '{"tier": "gold"}',
        **management("aliases", 0, 0),
        **management("consent_entries", 0, 0),
        **management("service_windows", 0, 0),
        **extra,
    }


def test_a_contact_with_service_windows_opens_and_shows_them_read_only(admin_client, windowed):
    response = admin_client.get(change_url(windowed))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Service windows" in page and "open until" in page.lower()
    assert 'name="service_windows-0-last_inbound_at"' not in page  # shown, never a field
    assert 'alt="True"' in page and 'alt="False"' in page  # one open now, one closed


def test_saving_a_contact_with_windows_keeps_them(admin_client, windowed):
    response = admin_client.post(change_url(windowed), form_data(windowed))
    assert response.status_code == 302
    windowed.refresh_from_db()
    assert windowed.name == "Amal M." and windowed.service_windows.count() == 2


def test_an_empty_or_made_up_inline_row_is_ignored_not_a_server_error(admin_client, windowed):
    window = windowed.service_windows.first()
    data = form_data(
        windowed,
        **management("service_windows", 2, 1),
        **{"service_windows-0-id": window.pk, "service_windows-0-contact": windowed.pk},
        **{"service_windows-1-id": "", "service_windows-1-contact": windowed.pk},  # the empty row
        **management("aliases", 1, 0),
        **{"aliases-0-id": "", "aliases-0-contact": windowed.pk, "aliases-0-wa_id": "971500000000"},
    )
    assert admin_client.post(change_url(windowed), data).status_code == 302
    assert ServiceWindow.objects.filter(contact=windowed).count() == 2 and not ContactAlias.objects.exists()


def test_a_form_error_shows_the_page_again_with_its_windows(admin_client, windowed):
    data = form_data(windowed, attributes="{not json", **management("service_windows", 1, 0))
    data["service_windows-0-contact"] = windowed.pk
    response = admin_client.post(change_url(windowed), data)
    assert response.status_code == 200 and "Enter a valid JSON." in response.content.decode()


def test_an_unsaved_window_reads_as_empty_not_as_an_error(windowed):
    inline = ServiceWindowInline(Contact, admin.site)
    row = ServiceWindow(contact=windowed)  # no time, no number yet: what an empty row holds
    assert (inline.open_until(row), inline.is_open_now(row)) == (None, None)
