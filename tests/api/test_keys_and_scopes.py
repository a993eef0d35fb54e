from datetime import timedelta

import pytest
from django.utils import timezone

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import ApiClient, api_key, bearer
from waco.api.keys import key_revoke
from waco.api.models import ApiKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_a_live_key_with_the_scope_reads():
    BusinessAccountFactory(waba_id="100")
    _, raw = api_key(scopes=["catalog:read"])
    response = ApiClient(raw).get("/api/v1/accounts")
    assert response.status_code == 200
    assert [row["account"] for row in response.json()["results"]] == ["100"]


def test_no_key_answers_401_with_the_bearer_challenge():
    assert_unauthorized(ApiClient().get("/api/v1/accounts"))


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer AbCdEfGh.wrong-secret", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"]
)
def test_a_wrong_key_or_scheme_answers_401(header):
    api_key()
    assert_unauthorized(ApiClient().get("/api/v1/accounts", HTTP_AUTHORIZATION=header))


def test_a_key_with_the_right_prefix_and_a_wrong_secret_answers_401():
    key, raw = api_key()
    assert_unauthorized(ApiClient(f"{key.prefix}.{'x' * 32}").get("/api/v1/accounts"))


def test_a_revoked_key_answers_401_at_once():
    key, raw = api_key()
    client = ApiClient(raw)
    assert client.get("/api/v1/accounts").status_code == 200
    key_revoke(key.prefix)
    response = client.get("/api/v1/accounts")
    assert_unauthorized(response)
    assert "revoked" in response.json()["detail"]


def test_an_expired_key_answers_401():
    _, raw = api_key(expires_at=timezone.now() - timedelta(seconds=1))
    response = ApiClient(raw).get("/api/v1/accounts")
    assert_unauthorized(response)
    assert "expired" in response.json()["detail"]


def test_two_live_keys_at_once_for_a_rotation():
    _, old = api_key(name="Storefront (old)")
    new_key, new = api_key(name="Storefront (new)")
    assert ApiClient(old).get("/api/v1/accounts").status_code == 200
    assert ApiClient(new).get("/api/v1/accounts").status_code == 200
    key_revoke(ApiKey.objects.get(name="Storefront (old)").prefix)
    assert ApiClient(old).get("/api/v1/accounts").status_code == 401
    assert ApiClient(new).get("/api/v1/accounts").status_code == 200


def test_a_missing_scope_answers_403_naming_it():
    _, raw = api_key(scopes=["orders:read"])
    response = ApiClient(raw).get("/api/v1/accounts")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "catalog:read" in response.json()["detail"]


def test_writes_need_the_write_scope_and_reads_the_read_scope():
    _, reader = api_key(scopes=["catalog:read"])
    _, writer = api_key(scopes=["catalog:write"])
    body = {"name": "New", "waba_id": "555"}
    assert ApiClient(reader).post("/api/v1/accounts", body).status_code == 403
    assert ApiClient(writer).get("/api/v1/accounts").status_code == 403
    assert ApiClient(writer).post("/api/v1/accounts", body).status_code == 201


def test_scopes_by_method_overrides_the_write_scope():
    account = BusinessAccountFactory()
    _, catalog_writer = api_key(scopes=["catalog:read", "catalog:write"])
    _, sender = api_key(scopes=["messages:send"])
    assert ApiClient(catalog_writer).put(f"/api/v1/accounts/{account.waba_id}").status_code == 403
    assert ApiClient(sender).put(f"/api/v1/accounts/{account.waba_id}").status_code == 200


def test_bearer_helper_works_with_any_client(client):
    _, raw = api_key()
    assert client.get("/api/v1/accounts", **bearer(raw)).status_code == 200


def test_the_client_factory_sets_the_header(api_client_factory):
    client = api_client_factory(scopes=["catalog:read"])
    assert client.api_key.scopes == ["catalog:read"]
    assert client.get("/api/v1/accounts").status_code == 200
    assert client.post("/api/v1/accounts", {"name": "x", "waba_id": "1"}).status_code == 403


def test_a_method_the_view_lacks_is_405_not_a_scope_error():
    _, raw = api_key(scopes=["orders:read"])
    assert ApiClient(raw).get("/api/v1/write-target").status_code == 405
    assert ApiClient(raw).delete("/api/v1/accounts").status_code == 405
    assert ApiClient().get("/api/v1/write-target").status_code == 401  # a key first, still
