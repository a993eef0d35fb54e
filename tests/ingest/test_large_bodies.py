"""Meta's webhook bodies can reach 3 MB: a signed 3 MiB body is stored and acknowledged
through the real server; one byte more is refused before it is read."""

import pytest
import requests

from tests.support.webhooks import WEBHOOK_URL, signed_headers, text_message_body
from waco.cloud_api.signature import SIGNATURE_HEADER
from waco.ingest.models import Delivery

MIB = 1024 * 1024


def signed_body_of(size: int) -> bytes:
    """A valid `messages` delivery whose text pads it to exactly `size` bytes."""
    empty = text_message_body(phone_number_id="1", text="")
    body = text_message_body(phone_number_id="1", text="x" * (size - len(empty)))
    assert len(body) == size
    return body


def post(live_server, body: bytes) -> requests.Response:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]}
    return requests.post(f"{live_server.url}{WEBHOOK_URL}", data=body, headers=headers, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_a_signed_3_mib_body_is_stored_and_answered_200(live_server):
    body = signed_body_of(3 * MIB)
    response = post(live_server, body)
    assert response.status_code == 200, response.text
    assert Delivery.objects.get().body.encode() == body


@pytest.mark.django_db(transaction=True)
def test_3_mib_and_one_byte_is_refused_with_413_and_nothing_stored(live_server):
    response = post(live_server, signed_body_of(3 * MIB + 1))
    assert response.status_code == 413
    assert not Delivery.objects.exists()
