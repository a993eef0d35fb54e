from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WacoConfig(AppConfig):
    """The core: health, heartbeats, periodic-job registry, the demo command."""

    name = "waco"
    verbose_name = "Waco core"

    def ready(self):
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="waco.heartbeat", task="waco.tasks.heartbeat", every_seconds=30
            )
        )
        post_migrate.connect(periodic.sync_periodic_tasks_after_migrate, sender=self)
