"""Outbound's reactions to other apps' signals, raised through waco.alerts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from templates_lib import services as templates
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from waco.alerts.models import Alert


@pytest.mark.django_db
def test_a_purpose_left_without_a_template_is_resolved_when_one_is_approved_again():
    template = TemplateFactory()
    PurposeTemplateFactory(purpose=PurposeFactory(key="order_update"), template=template, position=0)
    templates.template_apply_status(
        template=template,
        status="paused",
        reason="LOW_QUALITY",
        at=timezone.now() - timedelta(minutes=1),
        cause="webhook",
    )
    assert Alert.objects.filter(kind="unusable_purpose", resolved_at__isnull=True).count() == 1
    templates.template_apply_status(template=template, status="approved", at=timezone.now(), cause="webhook")
    assert not Alert.objects.filter(kind="unusable_purpose", resolved_at__isnull=True).exists()
