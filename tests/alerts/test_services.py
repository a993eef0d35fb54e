"""waco.alerts: one open alert per kind and subject, mailed to staff once."""

import pytest
from django.core import mail

from waco.alerts import services
from waco.alerts.models import Alert, AlertSeverity


@pytest.mark.django_db
def test_an_alert_is_mailed_to_staff_once_while_it_stays_open(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_raise(
            kind="number_paused", subject="+971 50 000 0001", detail="190", severity=AlertSeverity.CRITICAL
        )
        services.alert_raise(kind="number_paused", subject="+971 50 000 0001", detail="190 again")
    assert Alert.objects.get().detail == "190 again"
    assert len(mail.outbox) == 1
    assert "[Waco critical] number_paused" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["staff@example.com"]


@pytest.mark.django_db
def test_a_resolved_alert_opens_anew_when_it_happens_again(django_capture_on_commit_callbacks):
    services.alert_raise(kind="template_stopped", subject="order_shipped")
    assert services.alert_resolve(kind="template_stopped", subject="order_shipped") == 1
    services.alert_raise(kind="template_stopped", subject="order_shipped")
    assert Alert.objects.filter(kind="template_stopped").count() == 2
