"""Reconciliation and what Waco keeps: in-process against the sandbox Stripe over HTTP."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog.stock import available_one
from checkout import payments, reconciliation, stripe_client
from checkout.models import LinkStatus, OrderStatus, PaymentLink
from outbound.models import OutboundMessage
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import place
from tests.conversations.factories import ThreadFactory
from waco.contacts import services as contacts
from waco.ingest import inbox
from waco.sandbox import services as sandbox
from waco.sandbox.models import StripeCharge, StripeCheckoutSession
from waco.sandbox.stripe.payments import session_pay_card


@pytest.fixture
def stripe_sandbox(transactional_db, settings, live_server):
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_SANDBOX_STRIPE_WEBHOOK_URL = f"{live_server.url}/webhooks/stripe/"
    settings.WACO_SANDBOX_DELIVERY_THREAD = False
    settings.WACO_PUBLIC_URL = live_server.url
    yield
    stripe_client.stripe_clients_close()


def issued_link(variant):
    order, link = place(variant, 2)
    payments.payment_link_issue(link_id=link.pk)
    return order, PaymentLink.objects.get(pk=link.pk)


def test_a_session_past_its_reservation_is_expired_at_stripe_and_the_stock_released(stripe_sandbox):
    variant = VariantFactory(on_hand=2)
    order, link = issued_link(variant)
    assert link.status == LinkStatus.OPEN and available_one(variant=variant) == 0
    reconciliation.payments_reconcile_due(now=link.expires_at + timedelta(seconds=1))
    link.refresh_from_db()
    order.refresh_from_db()
    assert link.status == LinkStatus.EXPIRED and order.status == OrderStatus.EXPIRED
    assert stripe_client.checkout_session_retrieve(link.stripe_session_id).status == "expired"
    assert available_one(variant=variant) == 2


def test_an_open_session_is_left_alone_before_its_reservation_ends(stripe_sandbox):
    order, link = issued_link(VariantFactory(on_hand=2))
    reconciliation.payments_reconcile_due(now=link.expires_at - timedelta(minutes=1))
    assert PaymentLink.objects.get(pk=link.pk).status == LinkStatus.OPEN
    assert stripe_client.checkout_session_retrieve(link.stripe_session_id).status == "open"


def test_card_details_and_the_stripe_secret_are_in_no_table_and_no_log_record(stripe_sandbox, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, stripe-python's request and response bodies included
    order, link = issued_link(VariantFactory(on_hand=2))
    session_pay_card(session_id=link.stripe_session_id)
    sandbox.deliveries_flush(horizon_seconds=5)  # the signed event reaches the webhook and the inbox
    inbox.inbox_drain()
    payments.payment_reconcile(link=link)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    card = StripeCharge.objects.get().payment_method_details["card"]
    secrets = [
        card["fingerprint"],
        f'"last4": "{card["last4"]}"',
        f'"exp_year": {card["exp_year"]}',
        settings.WACO_STRIPE_SECRET_KEY,
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert any("stripe" in record.name for record in caplog.records)  # the library did log, at DEBUG
    for secret in secrets:
        assert secret not in logged
        assert waco_columns_holding(secret) == []


def waco_columns_holding(needle: str) -> list[str]:
    """Every column of every Waco table (the sandbox's own tables are Stripe's side) whose text holds `needle`."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith("sandbox_"):
                continue
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f'SELECT 1 FROM "{table}" WHERE CAST("{column.name}" AS text) LIKE %s LIMIT 1', [f"%{needle}%"]
                )
                if cursor.fetchone():
                    found.append(f"{table}.{column.name}")
    return found


@pytest.mark.django_db
def test_money_taken_on_a_cancelled_order_raises_an_alert_and_changes_nothing(stripe):
    from checkout.services import order_transition
    from waco.alerts.models import Alert

    order, link = place(VariantFactory(on_hand=2))
    PaymentLink.objects.filter(pk=link.pk).update(status=LinkStatus.OPEN, stripe_session_id="cs_test_late")
    order_transition(order=order, name="cancel", cause="staff")
    stripe.session_paid = True
    assert payments.payment_reconcile(link=PaymentLink.objects.get(pk=link.pk)) == "paid after cancel"
    assert Alert.objects.get(kind="payment_after_cancel").subject == f"order {order.reference}"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_session_create_retried_after_a_lost_answer_makes_one_session_and_one_link_message(stripe_sandbox):
    order, link = place(VariantFactory(on_hand=2))
    ThreadFactory(contact=order.contact, phone_number=order.phone_number)
    contacts.window_touch(contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now())
    payments.payment_link_issue(link_id=link.pk)
    first = PaymentLink.objects.get(pk=link.pk).stripe_session_id
    # The worker died after Stripe answered and before our row was saved: the task runs again.
    PaymentLink.objects.filter(pk=link.pk).update(status=LinkStatus.ISSUING, stripe_session_id=None)
    payments.payment_link_issue(link_id=link.pk)
    assert PaymentLink.objects.get(pk=link.pk).stripe_session_id == first
    assert StripeCheckoutSession.objects.count() == 1  # Stripe's idempotency key gave the same session
    assert OutboundMessage.objects.filter(dedupe_key=f"payment_link:{link.pk}").count() == 1
