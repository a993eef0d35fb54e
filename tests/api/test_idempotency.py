import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from tests.support.api import ApiClient, api_key
from waco import crypto
from waco.api import tasks
from waco.api.idempotency import fingerprint, idempotency_claim, idempotency_purge
from waco.api.models import IdempotentRequest
from waco.channels.models import BusinessAccount
from waco.stored_secrets import secrets_reencrypt

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]

BODY = {"name": "Shop", "waba_id": "700"}


@pytest.fixture
def client():
    return ApiClient(api_key()[1])


def post(client, body=BODY, key="retry-1", path="/api/v1/accounts"):
    return client.post(path, body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_returns_the_first_answer_and_does_nothing_again(client):
    first = post(client)
    again = post(client)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert BusinessAccount.objects.filter(waba_id="700").count() == 1


def test_another_api_key_of_the_merchant_gets_the_same_answer(client):
    post(client)
    rotated = ApiClient(api_key()[1])
    assert post(rotated)["Idempotent-Replayed"] == "true"


def stored_bodies() -> list[str]:
    """The answers' column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM api_idempotentrequest ORDER BY id")
        return [body for (body,) in cursor.fetchall()]


def test_the_answer_is_stored_encrypted(client):
    first = post(client)

    [stored] = stored_bodies()
    assert "{" not in stored  # no JSON at all: Fernet's token is urlsafe base64
    assert crypto.decrypt(stored).encode() == first.content


def test_a_key_rotation_reencrypts_the_answers_so_a_retry_still_gets_the_first_one(client, settings):
    first = post(client)
    old_key, new_key = settings.WACO_FIELD_ENCRYPTION_KEYS[0], "the-new-key-0123456789-abcdefghijkl"

    with override_settings(WACO_FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        secrets_reencrypt()
    with override_settings(WACO_FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key dropped, as rotation ends
        again = post(client)

    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content


def test_the_same_key_with_another_body_is_422(client):
    post(client)
    response = post(client, {"name": "Other", "waba_id": "701"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:waco:problem:idempotency-key-reused"
    assert not BusinessAccount.objects.filter(waba_id="701").exists()


def test_the_same_key_on_another_path_is_another_request(client):
    post(client)
    response = post(client, {}, path="/api/v1/write-target")
    assert response.status_code == 200
    assert response.json()["account"] == "700"
    assert "Idempotent-Replayed" not in response


def test_a_duplicate_while_the_first_is_in_flight_is_409(client):
    claim = idempotency_claim("retry-1", "/api/v1/accounts", fingerprint("POST", b'{"name":"Shop","waba_id":"700"}'))
    response = post(client)
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response.json()["type"] == "urn:waco:problem:idempotency-in-progress"
    assert not BusinessAccount.objects.filter(waba_id="700").exists()
    claim.delete()
    assert post(client).status_code == 201


def test_a_claim_abandoned_by_a_dead_process_is_taken_over(client):
    claim = idempotency_claim("retry-1", "/api/v1/accounts", "whatever")
    IdempotentRequest.objects.filter(pk=claim.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert post(client).status_code == 201


def test_answers_of_refusals_are_kept_too(client):
    first = post(client, {"name": "", "waba_id": "x"})
    again = post(client, {"name": "", "waba_id": "x"})
    assert first.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "application/problem+json"


def test_a_server_error_is_not_kept_so_a_retry_runs_again(client):
    assert post(client, {"problem": 503}, path="/api/v1/failing").status_code == 503
    assert not IdempotentRequest.objects.filter(path="/api/v1/failing").exists()
    again = post(client, {"problem": 503}, path="/api/v1/failing")
    assert again.status_code == 503
    assert "Idempotent-Replayed" not in again


def test_a_crash_frees_the_key(client):
    with pytest.raises(RuntimeError):
        post(client, {}, path="/api/v1/failing")
    assert not IdempotentRequest.objects.exists()


def test_records_are_kept_24_hours(client):
    post(client)
    assert idempotency_purge() == 0
    assert idempotency_purge(now=timezone.now() + timedelta(hours=24, seconds=1)) == 1
    BusinessAccount.objects.filter(waba_id="700").delete()
    again = post(client)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again


def test_an_expired_record_is_not_replayed_even_before_the_purge(client):
    post(client)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    BusinessAccount.objects.filter(waba_id="700").delete()
    again = post(client)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again


def test_reads_and_requests_without_the_header_are_not_recorded(client):
    client.get("/api/v1/accounts", HTTP_IDEMPOTENCY_KEY="read-1")
    client.post("/api/v1/accounts", BODY)
    assert not IdempotentRequest.objects.exists()


def test_a_malformed_idempotency_key_is_400(client):
    assert post(client, key="x" * 256).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_gets_409_while_the_first_runs_and_the_first_answer_after():
    BusinessAccount.objects.create(name="Locked", waba_id="locked", access_token="EAAG-probe")
    raw = api_key()[1]
    first = {}

    def send_first():
        try:
            first["response"] = post(ApiClient(raw), {}, path="/api/v1/locked")
        finally:
            connection.close()

    with transaction.atomic():
        BusinessAccount.objects.select_for_update().get(waba_id="locked")  # holds the first request in its handler
        thread = threading.Thread(target=send_first)
        thread.start()
        deadline = time.monotonic() + 10
        while not IdempotentRequest.objects.filter(idempotency_key="retry-1").exists():  # the first one's claim
            assert time.monotonic() < deadline, "the first request never claimed its key"
            time.sleep(0.01)
        duplicate = post(ApiClient(raw), {}, path="/api/v1/locked")
    thread.join(timeout=10)
    assert duplicate.status_code == 409
    assert first["response"].status_code == 201
    retry = post(ApiClient(raw), {}, path="/api/v1/locked")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"


def test_beat_purges_old_records_every_hour(client):
    post(client)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    job = PeriodicTask.objects.get(name="api.idempotency_purge")
    assert (job.task, job.interval.every) == ("api.idempotency_purge", 3600)
    tasks.idempotency_purge()
    assert not IdempotentRequest.objects.exists()
