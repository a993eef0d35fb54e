"""The standard purposes: keys the engine sends by. Each shop builds its own chains."""

from django.db import migrations

# Frozen here, as migrations must be: (key, category, description).
STANDARD_PURPOSES = [
    ("order_update", "UTILITY", "A change to an order: confirmed, packed, cancelled."),
    ("order_receipt", "UTILITY", "The receipt once an order is paid."),
    ("payment_reminder", "UTILITY", "A payment link is still open and will expire."),
    ("delivery_update", "UTILITY", "Shipping and delivery events of an order."),
    ("opt_in_confirmation", "UTILITY", "Confirms that the customer opted in to messages."),
    ("back_in_window", "UTILITY", "Asks the customer to reply, so the 24-hour window opens again."),
    ("cart_recovery", "MARKETING", "A nudge about a cart left without checkout."),
    ("back_in_stock", "MARKETING", "A product the customer asked about is available again."),
    ("verification_code", "AUTHENTICATION", "A one-time passcode."),
]


def seed(apps, schema_editor):
    Purpose = apps.get_model("templates_lib", "Purpose")
    for key, category, description in STANDARD_PURPOSES:
        Purpose.objects.get_or_create(key=key, defaults={"category": category, "description": description})


def unseed(apps, schema_editor):
    Purpose = apps.get_model("templates_lib", "Purpose")
    # Only purposes no shop has built a chain for: chains are shop data.
    Purpose.objects.filter(key__in=[key for key, _, _ in STANDARD_PURPOSES], links__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("templates_lib", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
