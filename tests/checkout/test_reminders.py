"""Payment reminders, run in-process at chosen times: one per unused link, before it expires,
never after payment, cancellation or an opt-out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout import reminders
from checkout.models import LinkStatus, Order, OrderStatus, PaymentLink
from checkout.reminders import payment_reminders_due, payment_reminders_send
from conversations.models import ThreadMessage, ThreadState
from outbound.models import MessageStatus, OutboundMessage
from outbound.selectors import messages_about
from tests.checkout.factories import OrderFactory, PaymentLinkFactory, approved_chain, utility_consent
from tests.conversations.factories import ThreadFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0():
    """When the customer checked out (their last message) and the link opened."""
    return timezone.now().replace(microsecond=0) - timedelta(hours=2)


def open_link(t0, *, last_message_before=timedelta(0)):
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(created_at=t0)
    utility_consent(order.contact, at=t0)
    link = PaymentLinkFactory(order=order, expires_at=t0 + timedelta(minutes=40))
    PaymentLink.objects.filter(pk=link.pk).update(created_at=t0)
    ThreadFactory(contact=order.contact, phone_number=order.phone_number, state=ThreadState.AWAITING_PAYMENT)
    contacts.window_touch(contact=order.contact, phone_number=order.phone_number, inbound_at=t0 - last_message_before)
    return PaymentLink.objects.select_related("order").get(pk=link.pk)


def reminders_of(link):
    return messages_about(subject_type="order", subject_id=link.order.reference).filter(purpose="payment_reminder")


def test_an_unused_link_gets_one_reminder_in_the_window_with_its_pay_button(t0):
    link = open_link(t0)
    assert payment_reminders_send(now=t0 + timedelta(minutes=16)) == 1
    assert payment_reminders_send(now=t0 + timedelta(minutes=17)) == 0
    message = reminders_of(link).get()
    assert (message.status, message.category, message.purpose, message.template_name) == (
        MessageStatus.QUEUED,
        "utility",
        "payment_reminder",
        "",
    )
    interactive = message.content["interactive"]
    assert interactive["type"] == "cta_url" and interactive["action"]["parameters"]["url"].endswith(
        f"/pay/{link.token}/"
    )
    assert f"order {link.order.reference} (640.00 AED)" in interactive["body"]["text"]
    link.refresh_from_db()
    assert link.reminded_at == t0 + timedelta(minutes=16)
    assert ThreadMessage.objects.get(outbound=message).thread.contact == link.order.contact


def test_no_reminder_before_the_delay_nor_when_the_link_is_about_to_expire(t0, settings):
    open_link(t0)
    assert settings.WACO_PAYMENT_REMINDER_MINUTES == 15
    assert payment_reminders_send(now=t0 + timedelta(minutes=14)) == 0
    assert payment_reminders_send(now=t0 + timedelta(minutes=36)) == 0  # 4 minutes left
    assert not OutboundMessage.objects.exists()


def test_outside_the_window_the_reminder_is_the_payment_reminder_template(t0):
    link = open_link(t0, last_message_before=timedelta(hours=23, minutes=55))
    approved_chain(link.order.business_account, "payment_reminder", "payment_reminder_v1")
    payment_reminders_send(now=t0 + timedelta(minutes=16))
    message = reminders_of(link).get()
    assert message.status == MessageStatus.QUEUED and message.template_name == "payment_reminder_v1"
    assert message.template_params == {
        "customer": "Amal",
        "order_ref": link.order.reference,
        "total": "640.00 AED",
        "expires_at": (t0 + timedelta(minutes=40)).strftime("%H:%M UTC"),
    }


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED])
def test_no_reminder_for_an_order_paid_cancelled_or_expired(t0, status):
    link = open_link(t0)
    Order.objects.filter(pk=link.order_id).update(status=status)
    assert payment_reminders_send(now=t0 + timedelta(minutes=16)) == 0
    assert not OutboundMessage.objects.exists()


def test_a_payment_that_lands_after_the_link_was_picked_stops_the_reminder(t0, monkeypatch):
    link = open_link(t0)
    picked = list(payment_reminders_due(now=t0 + timedelta(minutes=16)))
    PaymentLink.objects.filter(pk=link.pk).update(status=LinkStatus.PAID)
    Order.objects.filter(pk=link.order_id).update(status=OrderStatus.PAID)
    monkeypatch.setattr(reminders, "payment_reminders_due", lambda **kwargs: picked)
    assert payment_reminders_send(now=t0 + timedelta(minutes=16)) == 0
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize("category", [ConsentCategory.UTILITY, ConsentCategory.MARKETING])
def test_no_reminder_after_the_customer_opted_out(t0, category):
    link = open_link(t0)
    contacts.consent_record(
        contact=link.order.contact,
        category=category,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.WHATSAPP,
        recorded_at=t0 + timedelta(minutes=5),
    )
    assert payment_reminders_send(now=t0 + timedelta(minutes=16)) == 0
    assert not OutboundMessage.objects.exists()


def test_an_opt_out_before_the_order_does_not_stop_its_reminder(t0):
    link = open_link(t0)
    contacts.consent_record(
        contact=link.order.contact,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.THREAD,
        recorded_at=t0 - timedelta(days=3),
    )
    assert payment_reminders_send(now=t0 + timedelta(minutes=16)) == 1


def test_runs_go_in_batches_oldest_first_and_each_link_once(t0):
    links = [open_link(t0 + timedelta(seconds=n)) for n in range(3)]
    now = t0 + timedelta(minutes=20)
    assert payment_reminders_send(now=now, batch=2) == 2
    assert payment_reminders_send(now=now, batch=2) == 1
    assert payment_reminders_send(now=now, batch=2) == 0
    assert [reminders_of(link).count() for link in links] == [1, 1, 1]


def test_beat_runs_the_reminders_every_minute_at_the_current_time(t0):
    from checkout.tasks import send_payment_reminders
    from waco import periodic

    job = next(job for job in periodic.registered_jobs() if job.name == "checkout.send_payment_reminders")
    assert (job.task, job.every_seconds, job.queue) == ("checkout.send_payment_reminders", 60, "maintenance")
    link = open_link(timezone.now() - timedelta(minutes=20))
    send_payment_reminders()
    assert reminders_of(link).count() == 1
