import json
from datetime import UTC, datetime

import pytest
import time_machine

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import ApiClient, api_key
from waco.api.models import ApiAudit

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]

# 20 s into a minute, frozen: every request falls in the same window.
FROZEN = datetime(2026, 12, 7, 8, 0, 20, tzinfo=UTC)


@pytest.fixture
def client():
    BusinessAccountFactory(waba_id="111")
    key, raw = api_key()
    client = ApiClient(raw)
    client.api_key = key
    return client


class ExplodingStream:
    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@time_machine.travel(FROZEN, tick=False)
def test_a_key_over_its_rate_gets_429_with_retry_after(client, settings):
    settings.WACO_API_RATE_PER_MINUTE = 3
    assert [client.get("/api/v1/accounts").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/accounts")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "40"  # until the next minute
    assert ApiClient(api_key()[1]).get("/api/v1/accounts").status_code == 200  # another key has its own count


def test_the_count_starts_again_the_next_minute(client, settings):
    settings.WACO_API_RATE_PER_MINUTE = 1
    with time_machine.travel(FROZEN, tick=False):
        assert client.get("/api/v1/accounts").status_code == 200
        assert client.get("/api/v1/accounts").status_code == 429
    with time_machine.travel(FROZEN.replace(minute=1), tick=False):
        assert client.get("/api/v1/accounts").status_code == 200


@time_machine.travel(FROZEN, tick=False)
def test_without_redis_the_demo_counts_in_djangos_cache(client, settings):
    settings.REDIS_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.WACO_API_RATE_PER_MINUTE = 2
    assert [client.get("/api/v1/accounts").status_code for _ in range(3)] == [200, 200, 429]


def test_a_body_larger_than_djangos_upload_limit_but_within_the_apis_is_read(client, settings):
    body = json.dumps({"account": "111", "padding": "x" * (5 * 1024 * 1024)})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert len(body) < settings.WACO_API_MAX_BODY_BYTES
    response = client.generic("POST", "/api/v1/write-target", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["account"] == "111"


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(client, settings):
    response = client.generic(
        "POST",
        "/api/v1/write-target",
        "{}",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.WACO_API_MAX_BODY_BYTES + 1),
        **{"wsgi.input": ExplodingStream()},
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_the_limit_is_a_setting(client, settings):
    settings.WACO_API_MAX_BODY_BYTES = 100
    assert client.post("/api/v1/write-target", {"account": "111", "padding": "x" * 100}).status_code == 413
    assert client.post("/api/v1/write-target", {"account": "111"}).status_code == 200


def test_every_write_is_audited_and_no_read(client):
    client.get("/api/v1/accounts")
    client.post("/api/v1/accounts", {"name": "New", "waba_id": "222"})
    client.post("/api/v1/accounts", {"name": "", "waba_id": "x"})
    ApiClient("nope.nope").post("/api/v1/accounts", {"name": "Anonymous", "waba_id": "333"})
    rows = list(ApiAudit.objects.order_by("id").values_list("key", "method", "path", "status"))
    key = client.api_key.pk
    assert rows == [(key, "POST", "/api/v1/accounts", 201), (key, "POST", "/api/v1/accounts", 422)]


def test_refusals_of_a_known_key_are_audited():
    _, raw = api_key(scopes=["catalog:read"])
    ApiClient(raw).post("/api/v1/accounts", {"name": "New", "waba_id": "222"})
    assert ApiAudit.objects.get().status == 403
