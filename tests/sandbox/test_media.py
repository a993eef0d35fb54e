"""Media: uploads, and URLs that need the token and expire like Meta's."""

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.sandbox_graph import assert_graph_error
from tests.support.sandbox_shop import PHONE_NUMBER_ID, TOKEN
from waco.sandbox.services import config_update, sandbox_seed

pytestmark = pytest.mark.usefixtures("number")

START = 1_800_000_000


def _upload(client, content=b"%PDF-1.4 receipt", mime="application/pdf", token=TOKEN):
    return client.post(
        f"/sandbox/graph/v24.0/{PHONE_NUMBER_ID}/media",
        {"messaging_product": "whatsapp", "type": mime, "file": SimpleUploadedFile("f", content, mime)},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_upload_answers_an_id_and_get_describes_it(client, graph):
    media_id = _upload(client).json()["id"]
    assert media_id.isdigit()
    described = graph.get(media_id).json()
    assert described["id"] == media_id and described["mime_type"] == "application/pdf"
    assert described["file_size"] == len(b"%PDF-1.4 receipt") and len(described["sha256"]) == 64
    assert described["messaging_product"] == "whatsapp"
    assert client.get(described["url"], HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content == b"%PDF-1.4 receipt"


def test_media_url_needs_the_bearer_token(client, graph):
    url = graph.get(_upload(client).json()["id"]).json()["url"]
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_media_url_with_a_tampered_signature_is_refused(client, graph):
    url = graph.get(_upload(client).json()["id"]).json()["url"]
    assert client.get(url.replace("expires=", "expires=9"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_media_url_stops_working_after_five_minutes(client, graph):
    media_id = _upload(client).json()["id"]
    with time_machine.travel(START, tick=False):
        url = graph.get(media_id).json()["url"]
    with time_machine.travel(START + 299, tick=False):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    with time_machine.travel(START + 301, tick=False):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404
        # A fresh GET of the media id gives a fresh URL.
        assert client.get(graph.get(media_id).json()["url"], HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_media_url_lifetime_is_configurable(client, graph):
    config_update(changes={"media_url_ttl_seconds": 10})
    media_id = _upload(client).json()["id"]
    with time_machine.travel(START, tick=False):
        url = graph.get(media_id).json()["url"]
    with time_machine.travel(START + 11, tick=False):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_media_of_another_business_is_not_described(client, graph):
    media_id = _upload(client).json()["id"]
    sandbox_seed(waba_id="2", phone_number_id="200", display_phone_number="15550000200", access_token="other")
    assert_graph_error(graph.get(media_id, token="other"), 190, 401)


def test_oversized_image_upload_is_refused_with_131053(client):
    assert_graph_error(_upload(client, content=b"x" * (5 * 1024 * 1024 + 1), mime="image/jpeg"), 131053)


def test_upload_without_file_is_refused_with_100(client):
    response = client.post(
        f"/sandbox/graph/v24.0/{PHONE_NUMBER_ID}/media",
        {"messaging_product": "whatsapp"},
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert_graph_error(response, 100)


def test_deleted_media_is_gone(client, graph):
    media_id = _upload(client).json()["id"]
    assert graph.delete(media_id).json() == {"success": True}
    assert_graph_error(graph.get(media_id), 100)
