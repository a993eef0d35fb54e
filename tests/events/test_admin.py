"""The events admin: an endpoint's secret shown once, rotation, and replay (same webhook-id, fresh signature)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import WebhookVerificationError

from tests.support.events import drain_here, endpoint_to, event_commit
from tests.support.receiver import EventReceiver
from waco.events.models import Delivery, EventType, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = True


@pytest.fixture
def operations():
    """A member of the Operations group, which manages endpoints and replays events."""
    user = User.objects.create_user("ops", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Operations"))
    client = Client()
    client.force_login(user)
    return client


def test_a_new_endpoints_secret_is_shown_once_on_the_answer_to_its_creation(operations):
    answer = operations.post(
        reverse("admin:events_webhookendpoint_add"),
        {"url": "https://shop.example/hooks", "event_types": ["order.paid", "stock.released"], "enabled": "on"},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in answer.content.decode()
    change_page = operations.get(reverse("admin:events_webhookendpoint_change", args=[endpoint.pk]))
    assert change_page.status_code == 200 and endpoint.secret not in change_page.content.decode()


def test_a_refused_url_is_a_form_error(operations, settings):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = False

    answer = operations.post(
        reverse("admin:events_webhookendpoint_add"),
        {"url": "https://169.254.169.254/latest", "event_types": ["order.paid"]},
    )

    assert answer.status_code == 200 and "link-local address" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotating_shows_the_new_secret_once(operations):
    endpoint, old = endpoint_to("https://shop.example/hooks")

    answer = operations.post(
        reverse("admin:events_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
    )

    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in answer.content.decode() and old not in answer.content.decode()


def test_an_admin_replay_ten_minutes_after_the_event_verifies(operations):
    with EventReceiver() as receiver:
        _, secret = endpoint_to(receiver.url)
        event = event_commit(EventType.ORDER_PAID, "order:W-1", {"total_minor": 100})
        drain_here()

        with time_machine.travel(timezone.now() + timedelta(minutes=10)):
            answer = operations.post(
                reverse("admin:events_event_changelist"), {"action": "replay", "_selected_action": [event.id]}
            )
            assert answer.status_code == 302
            drain_here()
            first, replayed = receiver.accepted()
            assert replayed.verify(secret)["id"] == event.id
            with pytest.raises(WebhookVerificationError):  # the first post's timestamp is too old by now
                first.verify(secret)

    assert replayed.headers["webhook-id"] == first.headers["webhook-id"] == event.id
    assert replayed.body == first.body
    assert int(replayed.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) >= 600
    assert list(Delivery.objects.filter(event=event).values_list("replay", "state")) == [
        (True, "delivered"),
        (False, "delivered"),
    ]


def test_replaying_a_range_queues_one_delivery_per_event_and_endpoint(operations):
    endpoint_to("https://shop.example/a")
    endpoint_to("https://shop.example/b", types=["stock.released"])
    events = [event_commit(EventType.STOCK_RELEASED, "variant:TEE-M", {"n": n}) for n in range(3)]
    Delivery.objects.all().delete()

    operations.post(
        reverse("admin:events_event_changelist"),
        {"action": "replay", "_selected_action": [e.id for e in events]},
    )

    assert Delivery.objects.filter(replay=True).count() == 6


def test_a_viewer_without_the_replay_permission_has_no_replay_action():
    user = User.objects.create_user("agent", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Support agent"))
    user.user_permissions.add(Permission.objects.get(codename="view_event", content_type__app_label="events"))
    client = Client()
    client.force_login(user)

    page = client.get(reverse("admin:events_event_changelist"))

    assert page.status_code == 200 and 'value="replay"' not in page.content.decode()
