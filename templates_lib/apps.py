from django.apps import AppConfig

# Webhooks bring most changes; the sync catches what they missed (lost events,
# templates made in WhatsApp Manager). Meta's pause ladder starts at 3 hours, so
# a quarter of an hour is quick enough.
SYNC_EVERY_SECONDS = 15 * 60


class TemplatesLibConfig(AppConfig):
    """Message templates, their review lifecycle and purposes."""

    name = "templates_lib"
    label = "templates_lib"
    verbose_name = "Templates"

    def ready(self):
        from templates_lib import handlers  # noqa: F401  (registers with ingest)
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="templates_lib.sync_templates",
                task="templates_lib.sync_templates",
                every_seconds=SYNC_EVERY_SECONDS,
            )
        )
