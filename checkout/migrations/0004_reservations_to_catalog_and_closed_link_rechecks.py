"""Stock reservations move to catalog (rows copied, held by "order:<reference>"); closed payment
links get a row-driven re-check of their Stripe session."""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

RECHECK_FOR = timedelta(days=7)


def reservations_to_catalog(apps, schema_editor):
    Old = apps.get_model("checkout", "StockReservation")
    New = apps.get_model("catalog", "StockReservation")
    New.objects.bulk_create(
        New(variant_id=old.variant_id, holder=f"order:{old.order.reference}", quantity=old.quantity,
            held_until=old.expires_at, released_at=old.released_at, consumed_at=old.consumed_at)
        for old in Old.objects.select_related("order").iterator()
    )


def reservations_back_to_checkout(apps, schema_editor):
    Old = apps.get_model("checkout", "StockReservation")
    Order = apps.get_model("checkout", "Order")
    orders = {f"order:{reference}": pk for pk, reference in Order.objects.values_list("pk", "reference")}
    Old.objects.bulk_create(
        Old(order_id=orders[new.holder], variant_id=new.variant_id, quantity=new.quantity, expires_at=new.held_until,
            released_at=new.released_at, consumed_at=new.consumed_at)
        for new in apps.get_model("catalog", "StockReservation").objects.iterator() if new.holder in orders
    )


def recent_closed_links_are_checked_again(apps, schema_editor):
    # A link closed within the last week may still have been paid at Stripe: look once more.
    now = timezone.now()
    apps.get_model("checkout", "PaymentLink").objects.filter(
        status__in=["expired", "failed"], stripe_session_id__isnull=False, settled_at__gte=now - RECHECK_FOR,
    ).update(next_check_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("checkout", "0003_order_refund_permission"),
        ("catalog", "0002_on_hand_as_of_and_stock_reservations"),
    ]

    operations = [
        migrations.RunPython(reservations_to_catalog, reservations_back_to_checkout),
        migrations.DeleteModel(name="StockReservation"),
        migrations.AddField(
            model_name="paymentlink",
            name="checks",
            field=models.PositiveIntegerField(default=0, help_text="Re-reads of the session since the link closed."),
        ),
        migrations.AddField(
            model_name="paymentlink",
            name="next_check_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="paymentlink",
            index=models.Index(fields=["next_check_at"], name="checkout_pa_next_ch_cc1c0a_idx"),
        ),
        migrations.RunPython(recent_closed_links_are_checked_again, migrations.RunPython.noop),
    ]
