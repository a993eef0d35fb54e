import io
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import ApiClient, api_key
from waco.api.keys import key_authenticate, key_create
from waco.api.models import ApiKey
from waco.api.scopes import SCOPES

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.probe_urls")]


def test_the_issue_lists_these_scopes():
    assert SCOPES == (
        "catalog:read",
        "catalog:write",
        "orders:read",
        "orders:write",
        "contacts:read",
        "contacts:write",
        "messages:read",
        "messages:send",
        "templates:read",
        "threads:read",
        "webhooks:manage",
        # issue 16: "later issues add `campaigns:*`"; issue 19 adds them
        "campaigns:read",
        "campaigns:write",
    )


def test_a_key_is_stored_as_its_prefix_and_a_hash():
    key, raw = key_create(name="Storefront", scopes=["catalog:read"])
    prefix, secret = raw.split(".")
    assert key.prefix == prefix
    assert key.hashed_key.startswith("sha512$$") and secret not in key.hashed_key
    assert key_authenticate(raw) == key


def test_unknown_scopes_and_accounts_are_refused_on_create():
    with pytest.raises(ValidationError, match="Unknown scopes: catalog:delete"):
        key_create(name="x", scopes=["catalog:read", "catalog:delete"])
    with pytest.raises(ValidationError, match="at least one scope"):
        key_create(name="x", scopes=[])
    with pytest.raises(ValidationError, match="Unknown business accounts.*999"):
        key_create(name="x", scopes=["catalog:read"], waba_ids=["999"])
    assert not ApiKey.objects.exists()


def test_a_key_may_be_limited_to_some_accounts():
    one, two = BusinessAccountFactory(), BusinessAccountFactory()
    limited, _ = api_key(accounts=[one])
    everything, _ = api_key()
    assert limited.account_ids() == {one.pk}
    assert everything.account_ids() is None
    assert two.pk not in limited.account_ids()


def test_last_used_is_written_at_most_once_a_minute():
    key, raw = api_key()
    client = ApiClient(raw)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/accounts")
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        client.get("/api/v1/accounts")
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get("/api/v1/accounts")
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(seconds=61)


def command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_apikey_create_prints_the_key_once_and_it_works():
    account = BusinessAccountFactory(waba_id="4242")
    raw, note = command(
        "apikey_create", "--scopes", "catalog:read,orders:read", "--name", "Storefront", "--account", "4242",
        "--expires-in-days", "30",
    )  # fmt: skip
    key = ApiKey.objects.get()
    assert key.name == "Storefront" and key.scopes == ["catalog:read", "orders:read"]
    assert key.account_ids() == {account.pk}
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    assert raw.startswith(key.prefix + ".") and raw not in note
    assert ApiClient(raw).get("/api/v1/accounts").status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scopes", "catalog:read,everything", "--name", "x"], "Unknown scopes: everything"),
        (["--scopes", "catalog:read", "--name", "x", "--account", "123"], "Unknown business accounts"),
        (["--scopes", "catalog:read", "--name", "x", "--expires-in-days", "0"], "at least 1"),
    ],
)
def test_apikey_create_refuses_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        command("apikey_create", *args)
    assert not ApiKey.objects.exists()


def test_apikey_revoke_stops_the_key_at_once():
    key, raw = api_key()
    out, _ = command("apikey_revoke", key.prefix)
    assert key.prefix in out
    assert ApiClient(raw).get("/api/v1/accounts").status_code == 401
    with pytest.raises(CommandError, match="No API key with prefix 'nothing'"):
        command("apikey_revoke", "nothing")
