"""The handoff alert sends staff to the conversation; the first staff reply acknowledges it, handing back resolves it."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from conversations import staff
from conversations.models import ThreadState
from tests.channels.factories import PhoneNumberFactory
from tests.support.chat import Chat
from waco.alerts.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_outbox_drain(monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)


@pytest.fixture
def chat():
    return Chat(PhoneNumberFactory(verified_name="Layla Boutique"))


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", is_staff=True)


def test_asking_for_a_person_raises_an_alert_linking_to_the_conversation(chat):
    chat.says("agent")
    alert = Alert.objects.get(kind="handoff")
    assert alert.link == reverse("admin:conversations_thread_change", args=[chat.thread.pk])
    assert alert.acknowledged_at is None and alert.resolved_at is None


def test_the_first_staff_reply_acknowledges_it_and_handing_back_resolves_it(chat, user):
    chat.says("agent")
    thread = chat.thread
    assert thread.state == ThreadState.HANDOFF
    staff.staff_reply(thread=thread, user=user, text="Hello, I am Alice from the shop.")
    alert = Alert.objects.get(kind="handoff")
    acknowledged = alert.acknowledged_at
    assert acknowledged is not None and alert.resolved_at is None

    staff.staff_reply(thread=thread, user=user, text="Which size do you need?")
    assert Alert.objects.get(kind="handoff").acknowledged_at == acknowledged  # the first reply's time

    staff.thread_hand_back(thread=thread, user=user)
    assert Alert.objects.get(kind="handoff").resolved_at is not None


def test_a_note_does_not_acknowledge_the_alert(chat, user):
    chat.says("agent")
    staff.note_add(thread=chat.thread, user=user, text="Looking into it")
    assert Alert.objects.get(kind="handoff").acknowledged_at is None


def test_the_alert_admin_shows_the_link(admin_client, chat):
    chat.says("agent")
    alert = Alert.objects.get(kind="handoff")
    page = admin_client.get(reverse("admin:alerts_alert_changelist")).content.decode()
    assert f'href="{alert.link}"' in page
    page = admin_client.get(reverse("admin:alerts_alert_change", args=[alert.pk])).content.decode()
    assert f'href="{alert.link}"' in page
