"""A rotated secret must not drop every webhook unnoticed: refusals for a signature are
counted and alert past the threshold; signed webhooks passing again resolve the alert."""

import json

import pytest
from django.conf import settings
from django.core import mail

from tests.support.webhooks import post_webhook, text_message_body
from tests.workers import wait_until
from waco.alerts.models import Alert
from waco.flags import flag_clear
from waco.ingest import signatures
from waco.ingest.models import Delivery, DeliverySource

ROTATED_AWAY = "the-app-secret-before-rotation-0123456789"


@pytest.fixture(autouse=True)
def no_earlier_refusals():
    for source in DeliverySource.values:
        flag_clear(signatures._failures_key(source))
        flag_clear(signatures._alerted_key(source))


def open_signature_alerts():
    return Alert.objects.filter(kind=signatures.ALERT_KIND, resolved_at__isnull=True)


def refuse_stripe(client, times: int) -> None:
    for n in range(times):
        body = json.dumps({"id": f"evt_{n}", "object": "event", "type": "checkout.session.completed"}).encode()
        response = client.post(
            "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=deadbeef"
        )
        assert response.status_code == 400


def refuse_meta(client, times: int, *, wamid_prefix: str = "wamid.bad") -> None:
    for n in range(times):
        response = post_webhook(
            client, text_message_body(phone_number_id="1", wamid=f"{wamid_prefix}{n}"), secret=ROTATED_AWAY
        )
        assert response.status_code == 403


@pytest.mark.django_db
def test_refusals_below_the_threshold_raise_nothing_and_cost_no_query(client, django_assert_num_queries):
    threshold = settings.WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES
    with django_assert_num_queries(0):
        refuse_meta(client, threshold - 1)
    assert not Alert.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_threshold_th_refusal_alerts_staff_once(client, django_capture_on_commit_callbacks):
    threshold = settings.WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES
    refuse_meta(client, threshold - 1)
    with django_capture_on_commit_callbacks(execute=True):
        refuse_meta(client, 1, wamid_prefix="wamid.last")
        assert client.post("/webhooks/whatsapp/", data=b"{}", content_type="application/json").status_code == 401
        refuse_meta(client, 5, wamid_prefix="wamid.more")
    alert = open_signature_alerts().get()
    assert alert.subject == "Meta (WhatsApp) webhooks"
    assert "WACO_META_APP_SECRET" in alert.detail and ROTATED_AWAY not in alert.detail
    assert len(mail.outbox) == 1 and signatures.ALERT_KIND in mail.outbox[0].subject
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_stripe_refusals_alert_on_their_own_count(client):
    threshold = settings.WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES
    refuse_meta(client, threshold - 1)
    refuse_stripe(client, threshold - 1)
    assert not Alert.objects.exists()  # neither source reached the threshold
    refuse_stripe(client, 1)
    assert open_signature_alerts().get().subject == "Stripe webhooks"


@pytest.mark.django_db(transaction=True)
def test_the_alert_resolves_when_signed_webhooks_pass_again(client, worker):
    refuse_meta(client, settings.WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES)
    assert open_signature_alerts().exists()

    assert post_webhook(client, text_message_body(phone_number_id="1", wamid="wamid.good")).status_code == 200
    wait_until(lambda: not open_signature_alerts().exists(), message="the worker's drain to resolve the alert")
    assert Alert.objects.get(kind=signatures.ALERT_KIND).resolved_at is not None
    # Counting starts afresh: one more refusal is not the threshold.
    refuse_meta(client, 1, wamid_prefix="wamid.again")
    assert not open_signature_alerts().exists()
