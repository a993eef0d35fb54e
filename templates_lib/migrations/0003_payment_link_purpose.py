"""The payment_link purpose: the link to pay an order, as a template with a URL button outside the window."""

from django.db import migrations


def seed(apps, schema_editor):
    Purpose = apps.get_model("templates_lib", "Purpose")
    Purpose.objects.get_or_create(key="payment_link", defaults={
        "category": "UTILITY", "description": "The link to pay an order, with a URL button when the window is closed.",
    })


def unseed(apps, schema_editor):
    apps.get_model("templates_lib", "Purpose").objects.filter(key="payment_link", links__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("templates_lib", "0002_standard_purposes")]
    operations = [migrations.RunPython(seed, unseed)]
