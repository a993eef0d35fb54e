import base64

import pytest
from django.db import connection
from django.test import override_settings

from tests.channels.factories import BusinessAccountFactory
from waco.channels.models import BusinessAccount
from waco.crypto import InvalidToken

TOKEN = "EAAGm0PX4ZCpsBAKZC-secret-system-user-token-42"


def raw_token_column(account_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM channels_businessaccount WHERE id = %s", [account_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_access_token_is_not_stored_in_any_readable_form():
    account = BusinessAccountFactory(access_token=TOKEN)
    stored = raw_token_column(account.pk)
    for readable in (
        TOKEN,
        base64.b64encode(TOKEN.encode()).decode(),
        base64.urlsafe_b64encode(TOKEN.encode()).decode(),
        TOKEN.encode().hex(),
    ):
        assert readable not in stored
    assert BusinessAccount.objects.get(pk=account.pk).access_token == TOKEN


@pytest.mark.django_db
def test_the_same_token_encrypts_differently_each_time():
    first = BusinessAccountFactory(access_token=TOKEN)
    second = BusinessAccountFactory(access_token=TOKEN)
    assert raw_token_column(first.pk) != raw_token_column(second.pk)


@pytest.mark.django_db
def test_a_wrong_key_fails_to_decrypt():
    account = BusinessAccountFactory(access_token=TOKEN)
    with (
        override_settings(WACO_FIELD_ENCRYPTION_KEYS=["a-different-key-that-is-long-enough-000"]),
        pytest.raises(InvalidToken),
    ):
        BusinessAccount.objects.get(pk=account.pk)


@pytest.mark.django_db
def test_a_rotated_key_still_decrypts_tokens_written_with_the_old_one(settings):
    old_key = settings.WACO_FIELD_ENCRYPTION_KEYS[0]
    account = BusinessAccountFactory(access_token=TOKEN)
    with override_settings(WACO_FIELD_ENCRYPTION_KEYS=["the-new-key-0123456789-abcdefghijkl", old_key]):
        assert BusinessAccount.objects.get(pk=account.pk).access_token == TOKEN


@pytest.mark.django_db
def test_only_the_last_four_characters_are_kept_for_display():
    account = BusinessAccountFactory(access_token=TOKEN)
    assert account.access_token_hint == "…n-42"
