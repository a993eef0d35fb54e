"""The outbox admin's re-send goes through the send policy, as a fresh send would."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbound.models import MessageStatus, OutboundMessage
from tests.outbound.factories import OutboundMessageFactory
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_ring(monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)


def resend(client, *messages):
    response = client.post(
        "/admin/outbound/outboundmessage/",
        {"action": "resend", "_selected_action": [m.pk for m in messages]},
        follow=True,
    )
    return [str(m) for m in response.context["messages"]]


def test_a_free_form_reply_whose_window_is_open_is_queued_again(admin_client):
    message = OutboundMessageFactory(status=MessageStatus.FAILED, needs_person=True, error_code=131000)
    contacts.window_touch(
        contact=message.contact, phone_number=message.phone_number, inbound_at=timezone.now() - timedelta(hours=1)
    )
    assert resend(admin_client, message) == ["Queued 1 message(s) again."]
    message.refresh_from_db()
    assert (message.status, message.needs_person, message.attempts) == (MessageStatus.QUEUED, False, 0)


def test_a_free_form_reply_whose_window_closed_stays_failed_with_the_policy_s_reason(admin_client):
    message = OutboundMessageFactory(status=MessageStatus.FAILED, needs_person=True, error_code=131000)
    contacts.window_touch(
        contact=message.contact, phone_number=message.phone_number, inbound_at=timezone.now() - timedelta(hours=25)
    )
    notes = resend(admin_client, message)
    assert notes[0] == "Queued 0 message(s) again." and "refused by the send policy" in notes[1]
    message = OutboundMessage.objects.get(pk=message.pk)
    assert message.status == MessageStatus.FAILED and message.error_detail.startswith("re-send refused")
