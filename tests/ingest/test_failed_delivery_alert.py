"""A delivery that exhausted its retries is not left for someone to notice in the admin."""

import pytest
from django.core import mail

from tests.channels.factories import PhoneNumberFactory
from tests.ingest.factories import DeliveryFactory
from tests.support.webhooks import text_message_body
from waco.alerts.models import Alert, AlertSeverity
from waco.ingest import registry, services
from waco.ingest.models import DeliveryStatus


def fail(event, phone_number):
    raise ZeroDivisionError("a handler's bug")


@pytest.fixture
def failing_message_handler():
    registry.register("message", order=registry.HandlerOrder.DIALOGUE)(fail)
    yield
    registry._handlers["message"] = [h for h in registry._handlers["message"] if h.func is not fail]


@pytest.mark.django_db
def test_a_delivery_failing_its_last_attempt_alerts_staff_naming_it(
    failing_message_handler, django_capture_on_commit_callbacks
):
    number = PhoneNumberFactory()
    delivery = DeliveryFactory(body=text_message_body(phone_number_id=number.graph_id).decode())
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(services.MAX_ATTEMPTS - 1):
            services.delivery_process(delivery_id=delivery.pk)
    assert not Alert.objects.exists()  # still being retried

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    alert = Alert.objects.get(kind="delivery_failed")
    assert alert.severity == AlertSeverity.CRITICAL and alert.subject == "Meta (WhatsApp) webhook deliveries"
    assert f"Delivery {delivery.pk} failed {services.MAX_ATTEMPTS} times" in alert.detail
    assert "ZeroDivisionError" in alert.detail
    assert len(mail.outbox) == 1
