"""POST /api/v1/contacts/{contact}/consent: appended to the ledger, and an opt-out stops what waits."""

from datetime import timedelta

import pytest
import responses
from django.forms.models import model_to_dict
from django.utils import timezone

from outbound import sending
from outbound import services as outbound
from outbound.models import MessageCategory, MessageStatus, SendAttempt
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from waco.celery_config import QUEUE_MARKETING
from waco.contacts import services
from waco.contacts.models import ConsentEntry, ConsentSource, Contact

pytestmark = pytest.mark.django_db

AMAL = "971501230077"
OPT_OUT = {"category": "marketing", "action": "opt_out", "source": "account settings", "proof": "Unticked offers"}
OPT_IN = {"category": "marketing", "action": "opt_in", "source": "newsletter form", "proof": "Ticked 'Offers'"}


def test_an_opt_in_is_appended_with_its_source_and_proof(api_client):
    ContactFactory(wa_id=AMAL)

    answer = api_client.post(f"/api/v1/contacts/{AMAL}/consent", OPT_IN)

    assert answer.status_code == 201
    entry = ConsentEntry.objects.get()
    assert (entry.source, entry.reference, entry.proof) == (ConsentSource.API, "newsletter form", "Ticked 'Offers'")
    assert answer.json()["entry"]["id"] == entry.pk
    assert answer.json()["consent"]["marketing"]["granted"] is True
    assert answer.json()["created"] is False


def test_the_ledger_only_grows_and_the_newest_act_wins(api_client):
    ContactFactory(wa_id=AMAL)
    api_client.post(f"/api/v1/contacts/{AMAL}/consent", OPT_IN)
    first = model_to_dict(ConsentEntry.objects.get())

    out = api_client.post(f"/api/v1/contacts/{AMAL}/consent", OPT_OUT)
    late = api_client.post(  # an opt-in given before the opt-out, reported late: kept, not in force
        f"/api/v1/contacts/{AMAL}/consent", {**OPT_IN, "recorded_at": (timezone.now() - timedelta(days=1)).isoformat()}
    )

    assert ConsentEntry.objects.count() == 3
    assert model_to_dict(ConsentEntry.objects.get(pk=first["id"])) == first
    assert out.json()["consent"]["marketing"]["action"] == "opt_out"
    assert late.json()["consent"]["marketing"]["granted"] is False
    assert not services.consent_is_granted(contact=Contact.objects.get(), category="marketing")


def test_consent_for_a_new_number_creates_its_contact(api_client):
    answer = api_client.post("/api/v1/contacts/+971 50 123 0077/consent", {**OPT_IN, "category": "utility"})

    assert answer.status_code == 201 and answer.json()["created"] is True
    assert ConsentEntry.objects.get().contact.wa_id == AMAL


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({**OPT_IN, "category": "promotions"}, "/category"),
        ({**OPT_IN, "action": "maybe"}, "/action"),
        ({k: v for k, v in OPT_IN.items() if k != "source"}, "/source"),
        ({**OPT_IN, "recorded_at": (timezone.now() + timedelta(days=1)).isoformat()}, "/recorded_at"),
    ],
)
def test_a_bad_consent_body_is_refused_and_appends_nothing(api_client, body, pointer):
    ContactFactory(wa_id=AMAL)

    answer = api_client.post(f"/api/v1/contacts/{AMAL}/consent", body)

    assert answer.status_code == 422 and [e["pointer"] for e in answer.json()["errors"]] == [pointer]
    assert not ConsentEntry.objects.exists()


def test_consent_for_an_unknown_bsuid_is_404(api_client):
    assert api_client.post("/api/v1/contacts/US.404/consent", OPT_OUT).status_code == 404
    assert not Contact.objects.exists()


@pytest.fixture
def waiting_offer(settings, monkeypatch):
    """A marketing message the customer opted in to, waiting in the outbox (no drain has run yet)."""
    settings.WACO_GRAPH_API_BASE, settings.WACO_GRAPH_API_VERSION = "https://graph.example.test", "v24.0"
    monkeypatch.setattr(outbound, "outbox_ring", lambda *args, **kwargs: None)  # the test drains
    number, contact = PhoneNumberFactory(), ContactFactory(wa_id=AMAL)
    services.window_touch(contact=contact, phone_number=number, inbound_at=timezone.now())
    services.consent_record(
        contact=contact,
        category="marketing",
        action="opt_in",
        source=ConsentSource.CHECKOUT,
        recorded_at=timezone.now() - timedelta(minutes=1),
    )
    offer = outbound.message_enqueue(
        phone_number=number,
        contact=contact,
        category=MessageCategory.MARKETING,
        purpose="promotion",
        content={"type": "text", "text": {"body": "20% off abayas this weekend"}},
    )
    assert offer.status == MessageStatus.QUEUED
    with responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        graph.post(
            f"https://graph.example.test/v24.0/{number.graph_id}/messages",
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": AMAL, "wa_id": AMAL}],
                "messages": [{"id": "wamid.offer", "message_status": "accepted"}],
            },
        )
        yield offer, graph


@pytest.mark.parametrize(("body", "sent"), [(OPT_OUT, False), (OPT_IN, True)])
def test_an_api_opt_out_stops_a_waiting_marketing_message_before_any_call(api_client, waiting_offer, body, sent):
    offer, graph = waiting_offer

    assert api_client.post(f"/api/v1/contacts/{AMAL}/consent", body).status_code == 201
    sending.outbox_drain(queue=QUEUE_MARKETING)

    offer.refresh_from_db()
    assert (len(graph.calls), SendAttempt.objects.filter(message=offer).count()) == ((1, 1) if sent else (0, 0))
    if not sent:
        assert (offer.status, offer.error_class) == (MessageStatus.FAILED, "policy")
        assert "no marketing consent" in offer.error_detail
