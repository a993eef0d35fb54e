"""OrderChange becomes a waco.transitions.StateChange: columns renamed in place, so every row is kept."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

RENAMES = [("name", "transition"), ("source", "from_state"), ("target", "to_state"), ("at", "created_at")]


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0004_reservations_to_catalog_and_closed_link_rechecks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(migrations.RenameField("orderchange", old, new) for old, new in RENAMES),
        migrations.AlterModelOptions(
            name="orderchange",
            options={"ordering": ["created_at", "pk"]},
        ),
        migrations.AddField(
            model_name="orderchange",
            name="actor",
            field=models.ForeignKey(blank=True, help_text="The staff member who asked; blank when the system did.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="orderchange",
            name="cause",
            field=models.CharField(choices=[("customer", "The customer"), ("payment", "A payment event"), ("staff", "Staff in the admin"), ("api", "The order system, through the API")], max_length=16),
        ),
        migrations.AlterField(
            model_name="orderchange",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="orderchange",
            name="detail",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="orderchange",
            name="from_state",
            field=models.CharField(blank=True, help_text="Blank when the subject was created.", max_length=32),
        ),
        migrations.AlterField(
            model_name="orderchange",
            name="to_state",
            field=models.CharField(max_length=32),
        ),
        migrations.AlterField(
            model_name="orderchange",
            name="transition",
            field=models.CharField(blank=True, help_text="The transition applied, by name.", max_length=64),
        ),
    ]
