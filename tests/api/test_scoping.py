import pytest

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import ApiClient, api_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]


@pytest.fixture
def two_accounts():
    return BusinessAccountFactory(waba_id="111"), BusinessAccountFactory(waba_id="222")


def test_a_key_limited_to_one_account_lists_only_that_one(two_accounts):
    mine, _ = two_accounts
    _, raw = api_key(accounts=[mine])
    response = ApiClient(raw).get("/api/v1/accounts")
    assert [row["account"] for row in response.json()["results"]] == ["111"]


def test_an_object_of_another_account_answers_404_not_403(two_accounts):
    mine, theirs = two_accounts
    _, raw = api_key(accounts=[mine])
    client = ApiClient(raw)
    assert client.get("/api/v1/accounts/111").status_code == 200
    response = client.get("/api/v1/accounts/222")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/accounts/333").json() == response.json()  # the same as one that does not exist


def test_a_key_for_every_account_sees_them_all(two_accounts):
    _, raw = api_key()
    assert ApiClient(raw).get("/api/v1/accounts/222").status_code == 200


def test_a_write_goes_to_the_only_account_the_key_sees(two_accounts):
    mine, _ = two_accounts
    _, raw = api_key(accounts=[mine])
    response = ApiClient(raw).post("/api/v1/write-target", {})
    assert response.json()["account"] == "111"


def test_a_write_names_its_account_when_the_key_sees_several(two_accounts):
    _, raw = api_key()
    client = ApiClient(raw)
    response = client.post("/api/v1/write-target", {})
    assert response.status_code == 422
    assert response.json()["title"] == "Account required"
    assert response.json()["errors"] == [{"pointer": "/account", "detail": response.json()["errors"][0]["detail"]}]
    assert client.post("/api/v1/write-target", {"account": "222"}).json()["account"] == "222"


def test_a_write_to_an_account_the_key_may_not_see_answers_404(two_accounts):
    mine, _ = two_accounts
    _, raw = api_key(accounts=[mine])
    assert ApiClient(raw).post("/api/v1/write-target", {"account": "222"}).status_code == 404


def test_a_viewset_pages_with_cursors_and_checks_its_scope(two_accounts):
    _, raw = api_key(scopes=["orders:read"])
    first = ApiClient(raw).get("/api/v1/account-list?limit=1").json()
    assert [row["account"] for row in first["results"]] == ["111"]
    second = ApiClient(raw).get(first["next"]).json()
    assert [row["account"] for row in second["results"]] == ["222"] and second["next"] is None
    assert ApiClient(api_key(scopes=["catalog:read"])[1]).get("/api/v1/account-list").status_code == 403


@pytest.mark.parametrize("limit", ["null", "0", "-1", "1001", "2.5", ""])
def test_a_limit_outside_1_to_1000_is_refused_not_ignored(two_accounts, limit):
    _, raw = api_key(scopes=["orders:read"])
    response = ApiClient(raw).get(f"/api/v1/account-list?limit={limit}")
    assert response.status_code == 422
    assert "limit" in response.json()["detail"]
