"""Cancel and refund on the order page ask first: a confirmation page states the money and what the
customer is told, and only its "yes" runs the fulfilment. An empty refund box is never "refund all".
The page shows every status change, and keeps Stripe's ids folded under a disclosure."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from checkout.models import Order, OrderCause, OrderChange, OrderStatus, Refund
from outbound.models import OutboundMessage
from tests.checkout.factories import OrderFactory, paid_order

pytestmark = pytest.mark.django_db


def change_url(order) -> str:
    return f"/admin/checkout/order/{order.pk}/change/"


def post(client, order, event, **data):
    return client.post(f"/admin/checkout/order/{order.pk}/fulfil/{event}/", data)


def notes(client) -> list[str]:
    """The messages the order page shows after a redirect."""
    return [str(m) for m in client.get(change_url(Order.objects.first())).context["messages"]]


def nothing_moved(order, stripe, status=OrderStatus.PAID) -> bool:
    return (
        Order.objects.get(pk=order.pk).status == status
        and not Refund.objects.exists()
        and stripe.refunds == []
        and not OutboundMessage.objects.filter(purpose="order_update").exists()
    )


# --- refunds --------------------------------------------------------------------------------------


def test_the_refund_form_offers_a_stated_full_refund_or_a_typed_amount_never_an_empty_box(admin_client):
    page = admin_client.get(change_url(paid_order(status=OrderStatus.DELIVERED))).content.decode()
    assert 'id="refund-full"' in page and "Full refund: 640.00 AED" in page
    assert 'id="refund-part"' in page and 'id="refund-amount"' in page
    assert "empty: all that is left" not in page


@pytest.mark.parametrize(
    "data, said",
    [
        ({}, "Choose the full refund of 640.00 AED, or type the amount to refund."),
        ({"amount": ""}, "Choose the full refund of 640.00 AED, or type the amount to refund."),
        ({"refund": "amount", "amount": "  "}, "Type the amount to refund, or choose the full refund of 640.00 AED."),
        ({"refund": "amount", "amount": "", "confirm": "yes"}, "Type the amount to refund, or choose the full"),
        ({"refund": "amount", "amount": "640.01"}, "At most 640.00 AED can be refunded."),
        ({"refund": "amount", "amount": "0"}, "The refund amount must be more than zero."),
        ({"refund": "amount", "amount": "12,5"}, "“12,5” is not an amount in AED (e.g. 12.50)."),
    ],
)
def test_an_empty_or_wrong_refund_is_refused_before_any_question_and_changes_nothing(admin_client, stripe, data, said):
    order = paid_order(status=OrderStatus.DELIVERED)
    response = post(admin_client, order, "refunded", **data)
    assert response.status_code == 302
    assert notes(admin_client)[0].startswith(said)
    assert nothing_moved(order, stripe, OrderStatus.DELIVERED)


def test_a_full_refund_asks_first_stating_the_sum_and_what_the_customer_is_told(admin_client, stripe):
    order = paid_order(status=OrderStatus.DELIVERED)
    response = post(admin_client, order, "refunded", refund="full", amount="")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Refund 640.00 AED for order {order.reference}?" in page
    assert "640.00 AED" in page and "the full refund" in page
    assert f"order {order.reference} has been refunded (640.00 AED)" in page
    assert 'name="confirm" value="yes"' in page and 'name="amount_minor" value="64000"' in page
    assert 'id="confirm-no"' in page and change_url(order) in page
    assert nothing_moved(order, stripe, OrderStatus.DELIVERED)  # asking is not doing

    response = post(admin_client, order, "refunded", refund="full", amount_minor="64000", confirm="yes")
    assert response.status_code == 302 and response["Location"] == change_url(order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert [amount for _, amount, _ in stripe.refunds] == [640_00]
    assert notes(admin_client) == [f"Order {order.reference} is now refunded; the customer is being told."]


def test_a_partial_refund_asks_with_the_typed_amount_and_refunds_exactly_that(admin_client, stripe):
    order = paid_order(status=OrderStatus.SHIPPED)
    page = post(admin_client, order, "refunded", refund="amount", amount="100.50").content.decode()
    assert f"Refund 100.50 AED for order {order.reference}?" in page and "part of the payment" in page
    assert 'name="amount_minor" value="10050"' in page and 'value="Yes, refund 100.50 AED"' in page
    assert nothing_moved(order, stripe, OrderStatus.SHIPPED)

    post(admin_client, order, "refunded", refund="amount", amount_minor="10050", confirm="yes")
    assert Refund.objects.get().amount_minor == 100_50 and stripe.refunds[0][1] == 100_50
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


def test_a_full_refund_confirmed_for_a_sum_that_changed_meanwhile_is_refused(admin_client, stripe):
    order = paid_order(status=OrderStatus.DELIVERED)
    post(admin_client, order, "refunded", refund="full", amount_minor="70000", confirm="yes")
    assert notes(admin_client) == ["What is left to refund changed to 640.00 AED meanwhile: look again."]
    assert nothing_moved(order, stripe, OrderStatus.DELIVERED)


# --- cancels --------------------------------------------------------------------------------------


def test_cancelling_a_paid_order_asks_first_with_the_refund_and_the_reason(admin_client, stripe):
    order = paid_order()
    response = post(admin_client, order, "cancelled", reason="out of stock")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Cancel order {order.reference}? 640.00 AED is refunded." in page
    assert "out of stock" in page and "640.00 AED" in page
    assert f"order {order.reference} has been cancelled, with your reason “out of stock”" in page
    assert "640.00 AED is being refunded" in page
    assert 'name="reason" value="out of stock"' in page
    assert nothing_moved(order, stripe)

    post(admin_client, order, "cancelled", reason="out of stock", confirm="yes")
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.REFUNDED, "out of stock")
    assert [amount for _, amount, _ in stripe.refunds] == [640_00]


def test_cancelling_an_unpaid_order_asks_first_and_says_nothing_was_charged(admin_client, stripe):
    order = OrderFactory()
    page = post(admin_client, order, "cancelled", reason="the customer asked").content.decode()
    assert "nothing was charged" in page and 'value="Yes, cancel the order"' in page
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    post(admin_client, order, "cancelled", reason="the customer asked", confirm="yes")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED and stripe.refunds == []


def test_a_cancel_without_a_reason_is_refused_before_the_question(admin_client, stripe):
    order = paid_order()
    assert post(admin_client, order, "cancelled", reason="  ").status_code == 302
    assert notes(admin_client) == ["Cancelling needs a reason (the customer is told it)."]
    assert nothing_moved(order, stripe)


def test_staff_who_may_not_refund_never_see_the_question(stripe):
    order = paid_order()
    user = get_user_model().objects.create_user("fulfiller", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_order", "change_order"]))
    client = Client()
    client.force_login(user)
    assert post(client, order, "refunded", refund="full").status_code == 403
    assert post(client, order, "cancelled", reason="x").status_code == 403
    assert nothing_moved(order, stripe)


# --- the page: history and details ------------------------------------------------------------------


def test_the_page_shows_every_status_change_with_cause_actor_and_shop_time(admin_client, admin_user, settings, stripe):
    settings.TIME_ZONE = "Asia/Dubai"
    order = paid_order(status=OrderStatus.PACKED)
    placed = timezone.now() - timedelta(days=1)
    OrderChange.objects.create(
        order=order,
        from_state="",
        to_state="pending_payment",
        cause=OrderCause.CUSTOMER,
        transition="place",
        created_at=placed,
    )
    OrderChange.objects.create(
        order=order,
        from_state="pending_payment",
        to_state="paid",
        cause=OrderCause.PAYMENT,
        transition="pay",
        created_at=placed + timedelta(minutes=5),
    )
    OrderChange.objects.create(
        order=order,
        from_state="paid",
        to_state="packed",
        cause=OrderCause.STAFF,
        transition="pack",
        actor=admin_user,
        created_at=placed + timedelta(hours=2),
    )
    post(admin_client, order, "shipped", carrier="DHL", tracking_url="https://dhl.example/t/1")

    page = admin_client.get(change_url(order)).content.decode()
    history = page[page.index('id="order-history"') : page.index("</table>", page.index('id="order-history"'))]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td><td>(.*?)</td>", history)
    assert [(frm, to, transition) for _, frm, to, transition, _ in rows] == [
        ("-", "Waiting for payment", "place"),
        ("Waiting for payment", "Paid", "pay"),
        ("Paid", "Packed", "pack"),
        ("Packed", "Shipped", "ship"),
    ]
    assert [cause for *_, cause in rows] == [
        "The customer",
        "A payment event",
        "Staff in the admin",
        "Staff in the admin",
    ]
    assert history.count(">admin</td>") == 2 and history.count(">system</td>") == 2
    dubai = placed.astimezone(ZoneInfo("Asia/Dubai"))
    assert rows[0][0] == dubai.strftime("%Y-%m-%d %H:%M:%S +04")
    assert "times in Asia/Dubai" in page


def test_stripe_ids_are_folded_under_a_disclosure(admin_client, stripe):
    order = paid_order(status=OrderStatus.DELIVERED)
    post(admin_client, order, "refunded", refund="full", amount_minor="64000", confirm="yes")
    page = admin_client.get(change_url(order)).content.decode()
    link, refund = order.payment_links.get(), Refund.objects.get()
    for stripe_id, details in (
        (link.stripe_session_id, "order-payments-details"),
        (refund.stripe_refund_id, "order-refunds-details"),
    ):
        start = page.index(f'<details id="{details}">')
        assert page.index(stripe_id) > start and page.index(stripe_id) < page.index("</details>", start)
    tables = page[page.index('id="order-payments"') : page.index('id="order-payments-details"')]
    tables += page[page.index('id="order-refunds"') : page.index('id="order-refunds-details"')]
    assert link.stripe_session_id not in tables and refund.stripe_refund_id not in tables
    assert link.stripe_payment_intent_id not in page
