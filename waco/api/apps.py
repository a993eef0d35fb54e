from django.apps import AppConfig

# Idempotency records older than this answer nothing; beat deletes them this often.
PURGE_IDEMPOTENCY_EVERY_SECONDS = 60 * 60


class ApiConfig(AppConfig):
    """The REST API's common parts: keys and scopes, problems, idempotency, limits, audit."""

    name = "waco.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self):
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="api.idempotency_purge",
                task="api.idempotency_purge",
                every_seconds=PURGE_IDEMPOTENCY_EVERY_SECONDS,
            )
        )
