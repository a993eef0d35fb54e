"""Stock becomes on_hand with its as_of; stock reservations move here from checkout (their rows
are copied by checkout's migration 0003, which depends on this one)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def existing_levels_are_as_of_now(apps, schema_editor):
    # The old stock column already had every past sale subtracted: as of now, it is the level.
    apps.get_model("catalog", "Variant").objects.update(on_hand_as_of=django.utils.timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="variant", old_name="stock", new_name="on_hand"),
        migrations.AddField(
            model_name="variant",
            name="on_hand_as_of",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(existing_levels_are_as_of_now, migrations.RunPython.noop),
        migrations.CreateModel(
            name="StockReservation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("holder", models.CharField(db_index=True, max_length=64)),
                ("quantity", models.PositiveIntegerField()),
                ("held_until", models.DateTimeField()),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("consumed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("variant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                              related_name="reservations", to="catalog.variant")),
            ],
            options={
                "indexes": [
                    models.Index(fields=["variant", "held_until"], name="catalog_sto_variant_ebd75c_idx"),
                    models.Index(fields=["variant", "consumed_at"], name="catalog_sto_variant_ff092f_idx"),
                ],
            },
        ),
    ]
