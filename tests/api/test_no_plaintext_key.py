"""The raw key is shown once to its creator and then exists nowhere: no table, no log line."""

import logging

import pytest

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import ApiClient, api_key, tables_containing
from waco.api.keys import key_revoke

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]


def test_no_table_and_no_log_holds_the_key_after_good_and_bad_requests(caplog):
    caplog.set_level(logging.DEBUG)
    BusinessAccountFactory(waba_id="111")
    key, raw = api_key(scopes=["catalog:read", "catalog:write"])
    _, reader = api_key(scopes=["orders:read"])
    client = ApiClient(raw)
    assert client.get("/api/v1/accounts").status_code == 200
    for _ in range(2):  # the second is a replay
        assert (
            client.post("/api/v1/accounts", {"name": "A", "waba_id": "222"}, HTTP_IDEMPOTENCY_KEY="k").status_code
            == 201
        )
    assert client.post("/api/v1/accounts", {"name": "", "waba_id": "x"}).status_code == 422
    assert client.post("/api/v1/failing", {"problem": 503}).status_code == 503
    assert ApiClient(reader).get("/api/v1/accounts").status_code == 403
    assert ApiClient(raw[:-1] + "x").get("/api/v1/accounts").status_code == 401
    assert ApiClient("Bearer " + raw).get("/api/v1/accounts").status_code == 401
    key_revoke(key.prefix)
    assert client.post("/api/v1/accounts", {"name": "B", "waba_id": "333"}).status_code == 401

    assert "api_apikey.prefix" in tables_containing(key.prefix)  # the search finds what is there
    for secret in (raw.split(".")[1], reader.split(".")[1]):
        assert tables_containing(secret) == []
        assert secret not in caplog.text
    assert caplog.records  # the requests did log (4xx, 5xx), so the check looked at something
