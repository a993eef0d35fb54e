import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import api_key, tables_containing
from waco.api.keys import KeyRefused, key_authenticate
from waco.api.models import ApiAudit, ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client():
    user = User.objects.create_user("owner", is_staff=True)
    user.groups.add(Group.objects.get(name="Owner"))
    client = Client()
    client.force_login(user)
    return client


def test_creating_a_key_in_the_admin_shows_it_once_and_stores_only_its_hash(owner_client):
    account = BusinessAccountFactory()
    response = owner_client.post(
        reverse("admin:api_apikey_add"),
        {"name": "Storefront", "scopes": ["catalog:read", "orders:read"], "business_accounts": [account.pk]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # the admin's never_cache
    raw = re.search(r'<code id="api-key"[^>]*>([^<]+)</code>', response.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert key.scopes == ["catalog:read", "orders:read"] and key.account_ids() == {account.pk}
    assert key_authenticate(raw) == key
    secret = raw.split(".")[1]
    assert tables_containing(secret) == []
    for page in (reverse("admin:api_apikey_changelist"), reverse("admin:api_apikey_change", args=[key.pk])):
        content = owner_client.get(page).content.decode()
        assert secret not in content and key.hashed_key not in content


def test_unknown_scopes_are_refused_by_the_form(owner_client):
    response = owner_client.post(reverse("admin:api_apikey_add"), {"name": "x", "scopes": ["everything"]})
    assert response.status_code == 200 and not ApiKey.objects.exists()


def test_the_revoke_action_stops_keys(owner_client):
    key, raw = api_key()
    owner_client.post(
        reverse("admin:api_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    with pytest.raises(KeyRefused, match="revoked"):
        key_authenticate(raw)


def test_keys_are_revoked_never_deleted_and_the_audit_is_read_only(owner_client):
    key, _ = api_key()
    ApiAudit.objects.create(key=key, method="POST", path="/api/v1/stock", status=200)
    assert owner_client.get(reverse("admin:api_apikey_delete", args=[key.pk])).status_code == 403
    audit = ApiAudit.objects.get()
    assert owner_client.get(reverse("admin:api_apiaudit_changelist")).status_code == 200
    assert owner_client.get(reverse("admin:api_apiaudit_add")).status_code == 403
    page = owner_client.post(reverse("admin:api_apiaudit_change", args=[audit.pk]), {"status": 500})
    assert page.status_code == 403
    assert ApiAudit.objects.get().status == 200


def test_only_the_owner_manages_keys():
    owners = {group.name for group in Group.objects.filter(permissions__codename="add_apikey")}
    assert owners == {"Owner"}
