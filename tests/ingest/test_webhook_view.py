import json

import pytest
from kombu.exceptions import OperationalError

from tests.support.webhooks import WEBHOOK_URL, post_webhook, signed_headers, text_message_body
from waco.ingest import inbox, views
from waco.ingest.models import Delivery, DeliveryStatus
from waco.ingest.tasks import drain_inbox

pytestmark = pytest.mark.django_db


def test_handshake_echoes_the_challenge_for_our_token(client, settings):
    response = client.get(
        WEBHOOK_URL,
        {"hub.mode": "subscribe", "hub.verify_token": settings.WACO_META_VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_handshake_with_a_wrong_token_is_forbidden(client):
    response = client.get(WEBHOOK_URL, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert response.status_code == 403


def test_a_signed_delivery_is_stored_and_a_drain_dispatched_after_commit(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr(drain_inbox, "apply_async", lambda args: published.append(args))
    body = text_message_body(phone_number_id="1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_webhook(client, body)
        assert published == []
    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.body == body.decode()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == delivery.received_at  # due at once
    assert delivery.headers["X-Hub-Signature-256"].startswith("sha256=")
    callbacks[0]()
    assert published == [()]


def test_a_burst_of_deliveries_publishes_one_drain_until_the_drain_ends(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(drain_inbox, "apply_async", lambda args: published.append(args))
    monkeypatch.setattr(inbox, "MAX_DRAINS", 1)  # a drain alone: no call for help
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            post_webhook(client, text_message_body(phone_number_id="1", wamid=f"wamid.{n}"))
    assert Delivery.objects.count() == 5
    assert len(published) == 1

    inbox.inbox_drain()  # claims and processes all five, then silences the doorbell
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, text_message_body(phone_number_id="1", wamid="wamid.after"))
    assert len(published) == 2


def test_a_delivery_signed_with_a_rotated_secret_is_accepted(client, settings):
    settings.WACO_META_APP_SECRETS = ["new-secret-after-rotation", "old-secret-still-accepted"]
    response = post_webhook(client, text_message_body(phone_number_id="1"), secret="old-secret-still-accepted")
    assert response.status_code == 200
    assert Delivery.objects.count() == 1


def test_a_missing_signature_is_unauthorized_and_nothing_is_stored(client):
    response = client.post(WEBHOOK_URL, data=text_message_body(phone_number_id="1"), content_type="application/json")
    assert response.status_code == 401
    assert not Delivery.objects.exists()


def test_a_wrong_signature_is_forbidden_and_nothing_is_stored(client):
    body = text_message_body(phone_number_id="1")
    response = client.post(WEBHOOK_URL, data=body + b" ", content_type="application/json", **signed_headers(body))
    assert response.status_code == 403
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'"text"', json.dumps({"object": "page", "entry": []}).encode(), b"\xff\xfe{}"],
)
def test_malformed_json_or_a_wrong_object_is_a_bad_request(client, body):
    response = post_webhook(client, body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not Delivery.objects.exists()


def test_a_body_over_one_mebibyte_is_refused_before_it_is_read(client, monkeypatch):
    body = b'{"object": "whatsapp_business_account", "entry": [], "pad": "' + b"x" * views.MAX_BODY_BYTES + b'"}'
    response = post_webhook(client, body)
    assert response.status_code == 413
    assert not Delivery.objects.exists()


def test_a_broker_error_is_logged_and_the_webhook_still_answers_200(
    client, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(drain_inbox, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(client, text_message_body(phone_number_id="1"))
    assert response.status_code == 200
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert "beat will re-dispatch" in caplog.text


def test_other_methods_are_not_allowed(client):
    assert client.put(WEBHOOK_URL).status_code == 405
