"""ThreadTransition becomes a waco.transitions.StateChange: columns renamed in place, so every row is kept."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

RENAMES = [("name", "transition"), ("source", "from_state"), ("target", "to_state"), ("at", "created_at")]


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0007_outbound_subjects_from_dedupe_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(migrations.RenameField("threadtransition", old, new) for old, new in RENAMES),
        migrations.AlterModelOptions(
            name="threadtransition",
            options={"ordering": ["created_at", "pk"]},
        ),
        migrations.AddField(
            model_name="threadtransition",
            name="actor",
            field=models.ForeignKey(blank=True, help_text="The staff member who asked; blank when the system did.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="threadtransition",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="threadtransition",
            name="detail",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="threadtransition",
            name="from_state",
            field=models.CharField(blank=True, help_text="Blank when the subject was created.", max_length=32),
        ),
        migrations.AlterField(
            model_name="threadtransition",
            name="transition",
            field=models.CharField(blank=True, help_text="The transition applied, by name.", max_length=64),
        ),
    ]
