"""Give the messages sent before subjects existed the subject conversations now sets when it sends.

The dedupe keys were invented here (checkout_replies, order_updates, recovery, the staff forms),
so they are read here, once: after this migration nothing parses a key. A message about an order
(its links, reminder, receipt, updates) gets ("order", reference); a cart recovery ("cart", id);
any other message kept in a thread ("thread", id). A message in no thread with no known key keeps
no subject.
"""

from django.db import migrations

# key prefix -> what the number after it is
ORDER_KEYS = {"order_update", "order_receipt", "payment_refunded"}
LINK_KEYS = {"payment_link", "payment_reminder", "payment_ended"}
CART_KEYS = {"cart_recovery"}
THREAD_KEYS = {"staff-reply", "staff-template"}
BATCH = 1000


def key_parse(key: str | None) -> tuple[str, int] | None:
    """("order" | "link" | "cart" | "thread", pk) from an old dedupe key, or None."""
    prefix, _, rest = (key or "").partition(":")
    number = rest.partition(":")[0]
    if not number.isdigit():
        return None
    for kind, prefixes in (("order", ORDER_KEYS), ("link", LINK_KEYS), ("cart", CART_KEYS), ("thread", THREAD_KEYS)):
        if prefix in prefixes:
            return kind, int(number)
    return None


def subjects_fill(apps, schema_editor):
    OutboundMessage = apps.get_model("outbound", "OutboundMessage")
    Order = apps.get_model("checkout", "Order")
    PaymentLink = apps.get_model("checkout", "PaymentLink")
    rows = (OutboundMessage.objects.filter(subject_type="").order_by("pk")
            .values_list("pk", "dedupe_key", "thread_message__thread_id"))
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        last = batch[-1][0]
        parsed = {pk: key_parse(key) for pk, key, _ in batch}
        order_pks = {number for kind, number in filter(None, parsed.values()) if kind == "order"}
        link_pks = {number for kind, number in filter(None, parsed.values()) if kind == "link"}
        reference = dict(Order.objects.filter(pk__in=order_pks).values_list("pk", "reference"))
        link_reference = dict(PaymentLink.objects.filter(pk__in=link_pks).values_list("pk", "order__reference"))
        changed = []
        for pk, _, thread_id in batch:
            kind, number = parsed[pk] or (None, None)
            if kind == "order" and number in reference:
                subject = ("order", reference[number])
            elif kind == "link" and number in link_reference:
                subject = ("order", link_reference[number])
            elif kind in ("cart", "thread"):
                subject = (kind, str(number))
            elif thread_id is not None:
                subject = ("thread", str(thread_id))
            else:
                continue
            changed.append(OutboundMessage(pk=pk, subject_type=subject[0], subject_id=subject[1]))
        OutboundMessage.objects.bulk_update(changed, ["subject_type", "subject_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("checkout", "0004_reservations_to_catalog_and_closed_link_rechecks"),
        ("conversations", "0006_cart_recovery_sent_at"),
        ("outbound", "0005_message_subject"),
    ]

    operations = [migrations.RunPython(subjects_fill, migrations.RunPython.noop)]
