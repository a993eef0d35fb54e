from django.apps import AppConfig


class IngestConfig(AppConfig):
    """The webhook inbox: verify, store, acknowledge, dispatch."""

    name = "waco.ingest"
    label = "ingest"
    verbose_name = "Ingest"
