# Alerts moved to the core app waco.alerts. The table is renamed, not recreated, so every
# alert stays; waco.alerts' 0001 takes the model into its state after this.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('outbound', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name='alert', table='alerts_alert')],
            state_operations=[migrations.DeleteModel(name='Alert')],
        ),
    ]
