"""The contact page keeps what WhatsApp says (read-only) apart from what the merchant says (editable)."""

import pytest
from django.urls import reverse

from tests.contacts.factories import ContactFactory
from waco.contacts.models import ContactAlias

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_merchant_details_and_the_numbers_meta_knows_otherwise(admin_client):
    contact = ContactFactory(wa_id="551187654321", profile_name="Rafa", name="Rafael Souza", tags=["vip"])
    ContactAlias.objects.create(wa_id="5511987654321", contact=contact, wamid="wamid.1")

    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()

    assert 'name="name" value="Rafael Souza"' in page  # the merchant's, editable
    assert 'name="profile_name"' not in page and "Rafa" in page  # WhatsApp's, shown read-only
    assert "5511987654321" in page
