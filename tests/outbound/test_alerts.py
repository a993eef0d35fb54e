from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from outbound import services
from outbound.models import Alert, AlertSeverity
from templates_lib import services as templates
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory


@pytest.mark.django_db
def test_an_alert_is_mailed_to_staff_once_while_it_stays_open(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_raise(kind="number_paused", subject="+971 50 000 0001", detail="190", severity=AlertSeverity.CRITICAL)
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
def test_a_purpose_left_without_a_template_is_resolved_when_one_is_approved_again():
    template = TemplateFactory()
    PurposeTemplateFactory(purpose=PurposeFactory(key="order_update"), template=template, position=0)
    templates.template_apply_status(template=template, status="paused", reason="LOW_QUALITY",
                                    at=timezone.now() - timedelta(minutes=1), cause="webhook")
    assert Alert.objects.filter(kind="unusable_purpose", resolved_at__isnull=True).count() == 1
    templates.template_apply_status(template=template, status="approved", at=timezone.now(), cause="webhook")
    assert not Alert.objects.filter(kind="unusable_purpose", resolved_at__isnull=True).exists()
