import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.support.payloads import WEBHOOKS
from tests.support.webhooks import deliver
from waco.contacts import services
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource, Contact

pytestmark = pytest.mark.django_db


def record(contact, action, at, category=ConsentCategory.MARKETING, source=ConsentSource.THREAD):
    return services.consent_record(contact=contact, category=category, action=action, source=source, recorded_at=at)


def test_no_entry_means_no_consent():
    assert not services.consent_is_granted(contact=ContactFactory(), category=ConsentCategory.MARKETING)


def test_the_newest_entry_wins_whatever_the_order_of_recording():
    contact = ContactFactory()
    now = timezone.now()
    record(contact, ConsentAction.OPT_OUT, now)
    record(contact, ConsentAction.OPT_IN, now - timedelta(days=1))  # learnt late, but older
    assert not services.consent_is_granted(contact=contact, category=ConsentCategory.MARKETING)
    record(contact, ConsentAction.OPT_IN, now + timedelta(seconds=1))
    assert services.consent_is_granted(contact=contact, category=ConsentCategory.MARKETING)


def test_categories_are_independent():
    contact = ContactFactory()
    record(
        contact, ConsentAction.OPT_IN, timezone.now(), category=ConsentCategory.UTILITY, source=ConsentSource.CHECKOUT
    )
    assert services.consent_is_granted(contact=contact, category=ConsentCategory.UTILITY)
    assert not services.consent_is_granted(contact=contact, category=ConsentCategory.MARKETING)


def preference_body(value: str, timestamp: int) -> bytes:
    body = json.loads((WEBHOOKS / "pywa__user_marketing_preferences__signup.json").read_text())
    item = body["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    item.update(value=value, timestamp=timestamp)
    return json.dumps(body).encode()


def test_a_marketing_stop_from_whatsapp_opts_the_contact_out():
    PhoneNumberFactory(graph_id="106540352242922")
    now = int(timezone.now().timestamp())
    deliver(preference_body("signup", now - 60))
    contact = Contact.objects.get(wa_id="16505551234")
    assert services.consent_is_granted(contact=contact, category=ConsentCategory.MARKETING)

    deliver(preference_body("stop", now))

    entry = services.consent_current(contact=contact, category=ConsentCategory.MARKETING)
    assert (entry.action, entry.source) == (ConsentAction.OPT_OUT, ConsentSource.WHATSAPP)
    assert not services.consent_is_granted(contact=contact, category=ConsentCategory.MARKETING)
