# The Alert model, moved here from outbound with its rows: outbound's 0002 renamed the
# table to alerts_alert, so this only records the model in waco.alerts' state, and points
# the content type (and so the permissions staff groups hold) at the new app.

from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label='alerts', model='alert').exists():
        ContentType.objects.filter(app_label='outbound', model='alert').update(app_label='alerts')


def content_type_returns(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label='outbound', model='alert').exists():
        ContentType.objects.filter(app_label='alerts', model='alert').update(app_label='outbound')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('outbound', '0002_alert_moves_to_waco_alerts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=64)),
                        ('severity', models.CharField(choices=[('warning', 'Warning'), ('critical', 'Critical')], max_length=16)),
                        ('subject', models.CharField(help_text='What it is about, e.g. a phone number or template.', max_length=255)),
                        ('detail', models.TextField(blank=True)),
                        ('opened_at', models.DateTimeField()),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'ordering': ['-opened_at'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('resolved_at__isnull', True)), fields=('kind', 'subject'), name='one_open_alert_per_subject')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_follows, content_type_returns),
    ]
