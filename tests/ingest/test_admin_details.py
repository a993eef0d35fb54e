"""A webhook delivery's raw body and headers, and an inbox event's raw JSON, are folded under "details"."""

import json

import pytest

from tests.ingest.factories import DeliveryFactory
from tests.support.admin_pages import details_part, open_part
from waco.ingest.models import DeliverySource, EventOutcome, InboxEvent

pytestmark = pytest.mark.django_db

BODY = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": []}]}


def test_a_delivery_s_body_and_headers_are_behind_details(admin_client):
    delivery = DeliveryFactory(body=json.dumps(BODY), headers={"X-Hub-Signature-256": "sha256=ab12"})
    page = admin_client.get(f"/admin/ingest/delivery/{delivery.pk}/change/").content.decode()
    folded, shown = details_part(page), open_part(page)
    assert "field-pretty_body" in folded and "102290129340398" in folded and "sha256=ab12" in folded
    assert "102290129340398" not in shown and "sha256=ab12" not in shown
    assert "field-status" in shown and "field-last_error" in shown


def test_an_inbox_event_s_raw_json_is_behind_details(admin_client):
    delivery = DeliveryFactory()
    event = InboxEvent.objects.create(
        source=DeliverySource.META,
        dedupe_key="status:wamid.X:sent",
        kind="status",
        delivery=delivery,
        outcome=EventOutcome.APPLIED,
        raw={"id": "wamid.raw-only-here", "status": "sent"},
    )
    page = admin_client.get(f"/admin/ingest/inboxevent/{event.pk}/change/").content.decode()
    assert "wamid.raw-only-here" in details_part(page) and "wamid.raw-only-here" not in open_part(page)
