"""An outbound message is the record of what the customer was sent: never deleted from the admin, and its
raw payload and ids (content, wamid, dedupe key, the attempts' wamids) folded under "details"."""

import pytest
from django.urls import reverse
from django.utils import timezone

from outbound.models import MessageStatus, OutboundMessage, SendAttempt, SendOutcome
from tests.outbound.factories import OutboundMessageFactory
from tests.support.admin_pages import delete_refused, details_part, open_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    message = OutboundMessageFactory(
        status=MessageStatus.SENT,
        wamid="wamid.HBgLOTcxNTAwMDAwMDAwFQIAERgSQ0ZBRkI4",
        dedupe_key="order_update:41:packed",
        content={"type": "text", "text": {"body": "Your order W41 is packed."}},
    )
    SendAttempt.objects.create(
        message=message, started_at=timezone.now(), outcome=SendOutcome.ACCEPTED, wamid=message.wamid
    )
    return message


def test_an_outbound_message_cannot_be_deleted(admin_client, sent):
    assert delete_refused(admin_client, sent)
    changelist = admin_client.get(reverse("admin:outbound_outboundmessage_changelist")).content.decode()
    assert 'value="delete_selected"' not in changelist
    admin_client.post(
        reverse("admin:outbound_outboundmessage_changelist"),
        {"action": "delete_selected", "_selected_action": [sent.pk], "post": "yes"},
    )
    assert OutboundMessage.objects.filter(pk=sent.pk).exists()


def test_the_payload_and_the_ids_are_behind_details(admin_client, sent):
    page = admin_client.get(reverse("admin:outbound_outboundmessage_change", args=[sent.pk])).content.decode()
    folded, shown = details_part(page), open_part(page)
    for field in ("content", "template_params", "wamid", "dedupe_key"):
        assert f"field-{field}" in folded and f"field-{field}" not in shown, field
    assert sent.wamid in folded and sent.wamid not in shown  # the message's and its attempt's
    assert "order_update:41:packed" in folded and "order_update:41:packed" not in shown
    for field in ("status", "recipient", "purpose", "error_detail"):
        assert f"field-{field}" in shown, field
    assert "Send attempts (details)" in folded
