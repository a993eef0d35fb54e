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


@pytest.mark.django_db
def test_an_alert_carries_its_link_to_the_admin_and_the_mail(django_capture_on_commit_callbacks, settings):
    settings.WACO_PUBLIC_URL = "https://shop.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_raise(
            kind="handoff", subject="Amal on +971 4 555 0101", link="/admin/conversations/thread/7/change/"
        )
    assert Alert.objects.get().link == "/admin/conversations/thread/7/change/"
    assert "Open: https://shop.example.com/admin/conversations/thread/7/change/" in mail.outbox[0].body


@pytest.mark.django_db
def test_acknowledging_keeps_the_alert_open_and_resolving_by_link_closes_only_that_one():
    link = "/admin/conversations/thread/7/change/"
    services.alert_raise(kind="handoff", subject="Amal", link=link)
    services.alert_raise(kind="handoff", subject="Bilal", link="/admin/conversations/thread/8/change/")
    assert services.alert_acknowledge(kind="handoff", link=link) == 1
    assert services.alert_acknowledge(kind="handoff", link=link) == 0  # the first acknowledgement stands
    amal = Alert.objects.get(subject="Amal")
    assert amal.acknowledged_at is not None and amal.resolved_at is None
    assert services.alert_resolve_link(kind="handoff", link=link) == 1
    assert Alert.objects.get(subject="Amal").resolved_at is not None
    assert Alert.objects.get(subject="Bilal").resolved_at is None
