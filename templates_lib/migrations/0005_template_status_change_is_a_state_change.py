"""TemplateStatusChange becomes a waco.transitions.StateChange: columns renamed in place, so every
row is kept (its reason is the detail, Meta"s time the created_at); older rows name no transition."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

RENAMES = [("from_status", "from_state"), ("to_status", "to_state"), ("reason", "detail"), ("at", "created_at")]


class Migration(migrations.Migration):
    dependencies = [
        ("templates_lib", "0004_payment_refunded_purpose"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(migrations.RenameField("templatestatuschange", old, new) for old, new in RENAMES),
        migrations.AlterModelOptions(
            name="templatestatuschange",
            options={"ordering": ["template", "created_at", "id"]},
        ),
        migrations.AddField(
            model_name="templatestatuschange",
            name="actor",
            field=models.ForeignKey(blank=True, help_text="The staff member who asked; blank when the system did.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name="templatestatuschange",
            name="transition",
            field=models.CharField(blank=True, help_text="The transition applied, by name.", max_length=64),
        ),
        migrations.AlterField(
            model_name="templatestatuschange",
            name="cause",
            field=models.CharField(choices=[("webhook", "Webhook"), ("sync", "Sync"), ("staff", "Staff"), ("submit", "Submit")], max_length=16),
        ),
        migrations.AlterField(
            model_name="templatestatuschange",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="templatestatuschange",
            name="from_state",
            field=models.CharField(blank=True, help_text="Blank when the subject was created.", max_length=32),
        ),
        migrations.AlterField(
            model_name="templatestatuschange",
            name="to_state",
            field=models.CharField(max_length=32),
        ),
    ]
