"""The order pages in the admin, through Django's test client: what staff read, and the fulfilment forms."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from checkout.models import Order, OrderStatus, Refund
from outbound.selectors import messages_about
from tests.checkout.factories import OrderFactory, paid_order

pytestmark = pytest.mark.django_db


def change_url(order):
    return f"/admin/checkout/order/{order.pk}/change/"


def fulfil(client, order, event, **data):
    return client.post(f"/admin/checkout/order/{order.pk}/fulfil/{event}/", data, follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_list_shows_reference_contact_status_total_and_filters_by_status(admin_client):
    paid = paid_order()
    OrderFactory(reference="WPENDING1")
    page = admin_client.get("/admin/checkout/order/").content.decode()
    assert paid.reference in page and "WPENDING1" in page and "640.00 AED" in page
    filtered = admin_client.get("/admin/checkout/order/?status__exact=paid").content.decode()
    assert paid.reference in filtered and "WPENDING1" not in filtered
    found = admin_client.get("/admin/checkout/order/?q=WPENDING1").content.decode()
    assert "WPENDING1" in found and paid.reference not in found


def test_the_page_shows_lines_payments_history_messages_and_only_the_events_that_fit(admin_client, stripe):
    order = paid_order()
    fulfil(admin_client, order, "packed")
    page = admin_client.get(change_url(order)).content.decode()
    assert "Linen Abaya M" in page and "320.00 AED" in page  # the line
    link = order.payment_links.get()
    assert link.stripe_session_id in page and link.stripe_payment_intent_id not in page
    assert 'id="order-history"' in page and ">pack<" in page and "by admin" in page
    assert "order_update" in page and f"Your order {order.reference} is packed." in page
    assert 'id="do-shipped"' in page and 'id="do-cancelled"' in page and 'id="do-refunded"' in page
    assert 'id="do-packed"' not in page and 'id="do-delivered"' not in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_message_about_one_order_never_shows_on_another_order_s_page(admin_client, stripe):
    packed = paid_order()
    other = paid_order(contact=packed.contact, phone_number=packed.phone_number)
    fulfil(admin_client, packed, "packed")
    fulfil(admin_client, other, "cancelled", reason="changed my mind", confirm="yes")
    packed_page = admin_client.get(change_url(packed)).content.decode()
    other_page = admin_client.get(change_url(other)).content.decode()
    assert f"Your order {packed.reference} is packed." in packed_page
    assert f"Your order {other.reference} has been" not in packed_page
    assert f"Your order {other.reference} has been" in other_page
    assert f"Your order {packed.reference}" not in other_page


def test_staff_ship_with_carrier_and_tracking_url_then_deliver(admin_client, stripe):
    order = paid_order(status=OrderStatus.PACKED)
    response = fulfil(admin_client, order, "shipped", carrier="DHL", tracking_url="https://dhl.example/t/9")
    assert response.redirect_chain[-1][0] == change_url(order)
    assert page_messages(response) == [f"Order {order.reference} is now shipped; the customer is being told."]
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_url) == (OrderStatus.SHIPPED, "DHL", "https://dhl.example/t/9")
    fulfil(admin_client, order, "delivered")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert messages_about(subject_type="order", subject_id=order.reference).filter(purpose="order_update").count() == 2


def test_a_refused_event_shows_its_error_and_changes_nothing(admin_client, stripe):
    order = paid_order(status=OrderStatus.PACKED)
    response = fulfil(admin_client, order, "shipped", carrier="DHL", tracking_url="ftp://dhl.example/t/9")
    assert page_messages(response) == ["Shipped needs a tracking URL starting with http:// or https://."]
    assert 'class="error"' in response.content.decode()
    response = fulfil(admin_client, order, "delivered")
    assert page_messages(response) == [f"Order {order.reference} is packed: it cannot be delivered."]
    order.refresh_from_db()
    assert (order.status, order.carrier) == (OrderStatus.PACKED, "")


def test_a_refund_amount_is_typed_in_major_units(admin_client, stripe):
    order = paid_order(status=OrderStatus.DELIVERED)
    assert page_messages(fulfil(admin_client, order, "refunded", amount="12,5")) == [
        "“12,5” is not an amount in AED (e.g. 12.50)."
    ]
    fulfil(admin_client, order, "refunded", amount="100.50", confirm="yes")
    assert Refund.objects.get().amount_minor == 100_50 and stripe.refunds[0][1] == 100_50
    assert "100.50 AED" in admin_client.get(change_url(order)).content.decode()


def test_cancel_from_the_page_refunds_a_paid_order(admin_client, stripe):
    order = paid_order()
    fulfil(admin_client, order, "cancelled", reason="out of stock", confirm="yes")
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.REFUNDED, "out of stock")


def test_the_list_action_marks_each_order_it_can_and_warns_about_the_rest(admin_client, stripe):
    shipped, paid = paid_order(status=OrderStatus.SHIPPED), paid_order()
    response = admin_client.post(
        "/admin/checkout/order/", {"action": "mark_delivered", "_selected_action": [shipped.pk, paid.pk]}, follow=True
    )
    assert f"Order {paid.reference} is paid: it cannot be delivered." in page_messages(response)
    assert "Mark delivered: 1 order(s)." in page_messages(response)
    assert Order.objects.get(pk=shipped.pk).status == OrderStatus.DELIVERED


def test_the_fulfil_view_takes_only_posts_with_csrf_from_staff_who_may_change(admin_client, admin_user, stripe):
    order = paid_order()
    assert admin_client.get(f"/admin/checkout/order/{order.pk}/fulfil/packed/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(f"/admin/checkout/order/{order.pk}/fulfil/packed/").status_code == 403
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(viewer)
    assert client.get(change_url(order)).status_code == 200
    assert 'id="do-packed"' not in client.get(change_url(order)).content.decode()
    assert client.post(f"/admin/checkout/order/{order.pk}/fulfil/packed/").status_code == 403
    anonymous = Client().post(f"/admin/checkout/order/{order.pk}/fulfil/packed/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def staff_with(*codenames: str) -> Client:
    user = get_user_model().objects.create_user("-".join(codenames), password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_only_staff_who_may_refund_see_or_send_a_refund_or_a_cancel_that_refunds(stripe):
    order = paid_order()
    fulfiller = staff_with("view_order", "change_order")
    page = fulfiller.get(change_url(order)).content.decode()
    assert 'id="do-packed"' in page
    assert 'id="do-refunded"' not in page and 'id="do-cancelled"' not in page
    assert fulfiller.post(f"/admin/checkout/order/{order.pk}/fulfil/refunded/").status_code == 403
    assert fulfiller.post(f"/admin/checkout/order/{order.pk}/fulfil/cancelled/", {"reason": "x"}).status_code == 403
    assert (Order.objects.get(pk=order.pk).status, Refund.objects.count(), stripe.refunds) == (OrderStatus.PAID, 0, [])

    owner = staff_with("view_order", "change_order", "refund_order")
    assert 'id="do-refunded"' in owner.get(change_url(order)).content.decode()
    fulfil(owner, order, "refunded", refund="full", amount_minor=640_00, confirm="yes")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED and len(stripe.refunds) == 1


def test_staff_who_may_not_refund_may_still_cancel_an_unpaid_order(stripe):
    order = OrderFactory()
    fulfiller = staff_with("view_order", "change_order")
    assert 'id="do-cancelled"' in fulfiller.get(change_url(order)).content.decode()
    fulfil(fulfiller, order, "cancelled", reason="the customer asked", confirm="yes")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
