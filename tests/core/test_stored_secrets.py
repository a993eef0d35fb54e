"""Stored secrets: beat's check alerts naming the row no key opens; rotate_encryption_key
re-encrypts every secret under the first key, in one transaction, printing no secret."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from tests.channels.factories import BusinessAccountFactory
from tests.workers import wait_until
from waco import crypto
from waco.alerts.models import Alert
from waco.channels.models import BusinessAccount
from waco.stored_secrets import ALERT_KIND
from waco.tasks import check_stored_secrets

OLD_KEY = "the-key-before-rotation-0123456789abcdef"
NEW_KEY = "the-key-after-rotation-0123456789abcdefg"
TOKEN = "EAAG-system-user-token-never-printed-4242"


def raw_token(account: BusinessAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM channels_businessaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def store_raw_token(account: BusinessAccount, ciphertext: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE channels_businessaccount SET access_token = %s WHERE id = %s", [ciphertext, account.pk])


def under_unknown_key(plaintext: str) -> str:
    return Fernet(crypto._fernet_key("a-key-this-deployment-never-had-000000")).encrypt(plaintext.encode()).decode()


def rotate() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_encryption_key", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_beat_runs_the_check_every_hour():
    job = PeriodicTask.objects.get(name="waco.check_stored_secrets")
    assert (job.task, job.interval.every, job.enabled) == ("waco.tasks.check_stored_secrets", 3600, True)


@pytest.mark.django_db(transaction=True)
def test_the_beat_check_alerts_naming_the_account_whose_secret_no_key_opens(worker):
    BusinessAccountFactory(name="Readable Shop", access_token=TOKEN)
    lost = BusinessAccountFactory(name="Lost Key Shop", waba_id="209999999999999", access_token=TOKEN)
    store_raw_token(lost, under_unknown_key(TOKEN))

    check_stored_secrets.apply_async()
    alert = wait_until(lambda: Alert.objects.filter(kind=ALERT_KIND).first(), message="the check's alert")
    assert "Lost Key Shop (209999999999999)" in alert.subject and "access token" in alert.subject
    assert TOKEN not in alert.detail and raw_token(lost) not in alert.detail
    assert Alert.objects.filter(kind=ALERT_KIND).count() == 1  # the readable account is fine

    lost.access_token = TOKEN  # staff enter the token again
    lost.save()
    check_stored_secrets.apply_async()
    wait_until(
        lambda: not Alert.objects.filter(kind=ALERT_KIND, resolved_at__isnull=True).exists(),
        message="the next check to resolve the alert",
    )


@pytest.mark.django_db
def test_rotation_reencrypts_under_the_first_key_and_prints_no_secret(settings):
    settings.WACO_FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    accounts = [BusinessAccountFactory(access_token=f"{TOKEN}-{n}") for n in range(3)]
    before = {a.pk: raw_token(a) for a in accounts}

    settings.WACO_FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # the old key, second, still decrypts
    assert [BusinessAccount.objects.get(pk=a.pk).access_token for a in accounts] == [f"{TOKEN}-{n}" for n in range(3)]
    out, err = rotate()
    assert "channels.BusinessAccount.access_token: 3 re-encrypted, 0 already under the first key" in out

    settings.WACO_FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the new key alone now opens everything
    assert [BusinessAccount.objects.get(pk=a.pk).access_token for a in accounts] == [f"{TOKEN}-{n}" for n in range(3)]
    settings.WACO_FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    again, _ = rotate()  # idempotent: nothing left to re-encrypt
    assert "0 re-encrypted, 3 already under the first key" in again

    printed = out + err + again
    for account in accounts:
        assert raw_token(account) != before[account.pk]
        assert before[account.pk] not in printed and raw_token(account) not in printed
    assert TOKEN not in printed and OLD_KEY not in printed and NEW_KEY not in printed


@pytest.mark.django_db
def test_rotation_changes_nothing_when_one_secret_opens_under_no_key(settings):
    settings.WACO_FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    fine = BusinessAccountFactory(access_token=TOKEN)
    lost = BusinessAccountFactory(name="Lost Key Shop", waba_id="209999999999998", access_token=TOKEN)
    store_raw_token(lost, under_unknown_key(TOKEN))
    fine_before = raw_token(fine)

    settings.WACO_FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was re-encrypted"):
        call_command("rotate_encryption_key", stdout=io.StringIO(), stderr=err)
    assert "Lost Key Shop (209999999999998)" in err.getvalue()
    assert TOKEN not in err.getvalue() and raw_token(lost) not in err.getvalue()
    assert raw_token(fine) == fine_before  # rolled back with the rest
