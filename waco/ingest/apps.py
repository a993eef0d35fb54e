from django.apps import AppConfig


class IngestConfig(AppConfig):
    """The webhook inbox: verify, store, acknowledge, dispatch."""

    name = "waco.ingest"
    label = "ingest"
    verbose_name = "Ingest"

    def ready(self):
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="ingest.drain_due_deliveries",
                task="ingest.drain_due_deliveries",
                every_seconds=30,
            )
        )
