"""SKUs become unique per business account: the product's account is copied onto each variant
and the global unique on sku gives way to (business_account, sku)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_account_from_product(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Variant = apps.get_model("catalog", "Variant")
    account = Product.objects.filter(pk=OuterRef("product_id")).values("business_account_id")[:1]
    Variant.objects.update(business_account_id=Subquery(account))
    # Check the new foreign keys now: PostgreSQL refuses the ALTER TABLEs below while checks are
    # pending. SQLite (the demo) rebuilds the table instead and has no such statement.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_on_hand_as_of_and_stock_reservations"),
        ("channels", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="variant",
            name="business_account",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="catalog_variants",
                to="channels.businessaccount",
            ),
        ),
        migrations.RunPython(copy_account_from_product, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="variant",
            name="business_account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="catalog_variants",
                to="channels.businessaccount",
            ),
        ),
        migrations.AlterField(
            model_name="variant",
            name="sku",
            field=models.CharField(max_length=100, verbose_name="SKU"),
        ),
        migrations.AddConstraint(
            model_name="variant",
            constraint=models.UniqueConstraint(fields=("business_account", "sku"), name="catalog_variant_sku"),
        ),
    ]
