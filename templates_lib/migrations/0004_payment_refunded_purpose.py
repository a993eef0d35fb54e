"""The payment_refunded purpose: money that came in after the link closed, refunded because the stock was gone."""

from django.db import migrations


def seed(apps, schema_editor):
    Purpose = apps.get_model("templates_lib", "Purpose")
    Purpose.objects.get_or_create(key="payment_refunded", defaults={
        "category": "UTILITY",
        "description": "A payment arrived after its link closed and the stock was gone: it was refunded in full.",
    })


def unseed(apps, schema_editor):
    apps.get_model("templates_lib", "Purpose").objects.filter(key="payment_refunded", links__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("templates_lib", "0003_payment_link_purpose")]
    operations = [migrations.RunPython(seed, unseed)]
