import pytest
from django.utils import timezone

from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.support.webhooks import deliver, text_message_body
from waco.contacts import services
from waco.contacts.models import ConsentEntry, Contact, ServiceWindow

pytestmark = pytest.mark.django_db


def test_a_user_id_only_message_and_a_later_message_with_both_ids_make_one_contact():
    number = PhoneNumberFactory()
    deliver(
        text_message_body(phone_number_id=number.graph_id, wa_id=None, user_id="US.1234", wamid="wamid.A", name="Zara")
    )
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.user_id, contact.profile_name) == (None, "US.1234", "Zara")

    deliver(
        text_message_body(phone_number_id=number.graph_id, wa_id="971501112222", user_id="US.1234", wamid="wamid.B")
    )

    contact = Contact.objects.get()
    assert (contact.wa_id, contact.user_id) == ("971501112222", "US.1234")
    assert ServiceWindow.objects.filter(contact=contact).count() == 1


def test_a_message_with_both_ids_links_two_existing_contacts_into_one():
    number = PhoneNumberFactory()
    by_phone = ContactFactory(wa_id="971500000009", user_id=None)
    by_user = ContactFactory(wa_id=None, user_id="US.9")
    earlier = timezone.now() - timezone.timedelta(hours=2)
    services.window_touch(contact=by_user, phone_number=number, inbound_at=earlier)
    services.consent_record(
        contact=by_user, category="marketing", action="opt_in", source="thread", recorded_at=earlier
    )
    merged = []
    services.contact_merged.connect(
        lambda sender, survivor, merged_id, **kw: merged.append((survivor.pk, merged_id)), weak=False
    )

    contact = services.contact_resolve(wa_id="971500000009", user_id="US.9")

    assert contact.pk == by_phone.pk
    assert Contact.objects.count() == 1
    assert merged[-1] == (by_phone.pk, by_user.pk)
    assert ConsentEntry.objects.get().contact_id == by_phone.pk
    assert ServiceWindow.objects.get().contact_id == by_phone.pk


def test_a_contact_needs_an_identity():
    with pytest.raises(ValueError):
        services.contact_resolve(profile_name="nobody")


def test_the_window_moves_only_forward():
    number = PhoneNumberFactory()
    contact = ContactFactory()
    now = timezone.now()
    services.window_touch(contact=contact, phone_number=number, inbound_at=now)
    services.window_touch(contact=contact, phone_number=number, inbound_at=now - timezone.timedelta(hours=5))
    assert services.window_open_until(contact=contact, phone_number=number) == now + timezone.timedelta(hours=24)
    assert services.window_is_open(contact=contact, phone_number=number, now=now + timezone.timedelta(hours=23))
    assert not services.window_is_open(contact=contact, phone_number=number, now=now + timezone.timedelta(hours=24))


def test_a_late_older_message_does_not_shorten_the_window():
    number = PhoneNumberFactory()
    now = int(timezone.now().timestamp())
    deliver(text_message_body(phone_number_id=number.graph_id, wamid="wamid.NEW", timestamp=now))
    deliver(text_message_body(phone_number_id=number.graph_id, wamid="wamid.OLD", timestamp=now - 3600))
    assert int(ServiceWindow.objects.get().last_inbound_at.timestamp()) == now


def test_a_system_message_does_not_open_the_window():
    number = PhoneNumberFactory()
    body = text_message_body(phone_number_id=number.graph_id).decode()
    body = body.replace(
        '"type": "text", "text": {"body": "hello"}',
        '"type": "system", "system": {"body": "User identity changed", "type": "customer_identity_changed"}',
    )
    deliver(body.encode())
    assert Contact.objects.count() == 1
    assert not ServiceWindow.objects.exists()


def test_the_window_is_per_business_number():
    first, second = PhoneNumberFactory(), PhoneNumberFactory()
    deliver(text_message_body(phone_number_id=first.graph_id))
    contact = Contact.objects.get()
    assert services.window_is_open(contact=contact, phone_number=first, now=timezone.now())
    assert not services.window_is_open(contact=contact, phone_number=second, now=timezone.now())


def test_contact_find_reads_by_either_identity_and_creates_nothing():
    linked = services.contact_resolve(wa_id="971500000077", user_id="US.77")
    assert services.contact_find(wa_id="971500000077") == linked
    assert services.contact_find(user_id="US.77") == linked
    assert services.contact_find(wa_id="971500000078") is None and services.contact_find() is None
    assert Contact.objects.count() == 1
