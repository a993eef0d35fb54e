"""Token health: beat reads each account's token back through debug_token at the sandbox, over HTTP,
and alerts (or pauses the numbers) before a customer finds out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.channels.factories import PhoneNumberFactory
from tests.support.sandbox_shop import TOKEN, sandbox_shop_wire
from waco import periodic
from waco.alerts.models import Alert, AlertSeverity
from waco.celery import app as celery_app
from waco.channels import tasks, token_health
from waco.channels.services import AUTH_PAUSE_PREFIX, phone_number_pause_sending
from waco.sandbox import services as sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(settings, live_server):
    return sandbox_shop_wire(settings, live_server)


def check(shop, now=None):
    return token_health.token_check(shop.account, now=now or timezone.now())


def open_alerts(shop) -> dict[str, Alert]:
    return {a.kind: a for a in Alert.objects.filter(subject=str(shop.account), resolved_at__isnull=True)}


def token_set(shop, **state):
    sandbox.token_state_set(waba_id=shop.account.waba_id, **state)


def test_a_valid_token_that_never_expires_raises_nothing(shop):
    assert check(shop) is None
    assert not Alert.objects.exists()


def test_a_token_expiring_within_14_days_raises_a_warning_with_the_date(shop):
    now = timezone.now()
    expiry = now + timedelta(days=10)
    token_set(shop, expires_at=expiry)
    problem = check(shop, now)
    assert problem.kind == token_health.EXPIRING
    alert = open_alerts(shop)[token_health.EXPIRING]
    assert alert.severity == AlertSeverity.WARNING
    assert f"{expiry:%Y-%m-%d}" in alert.detail
    shop.number.refresh_from_db()
    assert not shop.number.sending_paused  # it still works


def test_a_token_expiring_later_than_14_days_raises_nothing_yet(shop):
    now = timezone.now()
    token_set(shop, expires_at=now + timedelta(days=15))
    assert check(shop, now) is None
    assert not Alert.objects.exists()


def test_a_token_missing_a_permission_raises_a_critical_alert_naming_it(shop):
    token_set(shop, scopes=["whatsapp_business_management"])
    assert check(shop).kind == token_health.MISSING_SCOPES
    alert = open_alerts(shop)[token_health.MISSING_SCOPES]
    assert alert.severity == AlertSeverity.CRITICAL
    assert "whatsapp_business_messaging" in alert.detail
    assert "whatsapp_business_management" not in alert.detail


def test_an_invalid_token_pauses_every_number_of_the_account_and_raises_a_critical_alert(shop):
    second = PhoneNumberFactory(business_account=shop.account)
    token_set(shop, valid=False)
    assert check(shop).kind == token_health.INVALID
    for number in (shop.number, second):
        number.refresh_from_db()
        assert number.sending_paused
        assert number.sending_paused_reason.startswith(AUTH_PAUSE_PREFIX)
    assert open_alerts(shop)[token_health.INVALID].severity == AlertSeverity.CRITICAL


def test_a_fixed_token_resolves_the_alert_and_resumes_the_numbers_paused_for_auth(shop):
    held_by_staff = PhoneNumberFactory(business_account=shop.account)
    phone_number_pause_sending(phone_number=held_by_staff, reason="staff: stock count")
    token_set(shop, valid=False)
    check(shop)
    token_set(shop, valid=True)
    assert check(shop) is None
    assert open_alerts(shop) == {}
    assert Alert.objects.get(kind=token_health.INVALID).resolved_at is not None
    shop.number.refresh_from_db()
    held_by_staff.refresh_from_db()
    assert not shop.number.sending_paused
    assert held_by_staff.sending_paused and held_by_staff.sending_paused_reason == "staff: stock count"


def test_a_fixed_permission_resolves_its_alert(shop):
    token_set(shop, scopes=[])
    check(shop)
    token_set(shop)
    check(shop)
    assert open_alerts(shop) == {}


def test_without_an_app_id_the_job_does_nothing(shop, settings):
    settings.WACO_META_APP_ID = ""
    token_set(shop, valid=False)
    tasks.check_tokens.apply().get()
    assert not Alert.objects.exists()
    shop.number.refresh_from_db()
    assert not shop.number.sending_paused


def test_the_job_checks_every_account(shop):
    token_set(shop, scopes=["whatsapp_business_messaging"])
    tasks.check_tokens.apply().get()
    assert token_health.MISSING_SCOPES in open_alerts(shop)


def test_a_wrong_app_secret_is_a_critical_alert_that_the_check_could_not_run(shop):
    token_set(shop, valid=False)
    check(shop)
    sandbox.app_secret_reset(app_secret="reset-at-meta-and-not-told-to-waco")
    assert check(shop).kind == token_health.CHECK_FAILED
    alerts = open_alerts(shop)
    assert alerts[token_health.CHECK_FAILED].severity == AlertSeverity.CRITICAL
    assert "WACO_META_APP_SECRET" in alerts[token_health.CHECK_FAILED].detail
    assert token_health.INVALID in alerts  # a blind check resolves nothing


def test_an_unreachable_graph_is_a_warning_whose_detail_never_shows_the_token(shop, settings):
    settings.WACO_GRAPH_API_BASE = "http://127.0.0.1:9"  # discard: nothing listens
    problem = check(shop)
    assert problem.kind == token_health.CHECK_FAILED and problem.severity == AlertSeverity.WARNING
    alert = open_alerts(shop)[token_health.CHECK_FAILED]
    assert TOKEN not in alert.detail
    assert settings.WACO_META_APP_SECRETS[0] not in alert.detail


def test_the_check_is_a_beat_job_every_six_hours():
    [job] = [job for job in periodic.registered_jobs() if job.name == "channels.check_tokens"]
    assert job.every_seconds == 6 * 60 * 60
    assert job.task in celery_app.tasks
