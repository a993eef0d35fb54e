from django.apps import AppConfig
from django.core import checks
from django.core.servers.basehttp import WSGIRequestHandler
from django.db.models.signals import post_migrate


class WacoConfig(AppConfig):
    """The core: health, heartbeats, periodic-job registry, the demo command."""

    name = "waco"
    verbose_name = "Waco core"

    def ready(self):
        from waco import graph_version, periodic, roles

        checks.register(graph_version.graph_version_check, deploy=True)  # `manage.py check --deploy`

        periodic.register(periodic.PeriodicJob(name="waco.heartbeat", task="waco.tasks.heartbeat", every_seconds=30))
        periodic.register(
            periodic.PeriodicJob(
                name="waco.check_stored_secrets", task="waco.tasks.check_stored_secrets", every_seconds=60 * 60
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                name="waco.watch_graph_version", task="waco.tasks.watch_graph_version", every_seconds=24 * 60 * 60
            )
        )
        post_migrate.connect(periodic.sync_periodic_tasks_after_migrate, sender=self)
        post_migrate.connect(roles.roles_sync_after_migrate, sender=self)  # the staff role groups
        _disable_nagle_in_the_development_server()


def _disable_nagle_in_the_development_server() -> None:
    """Django's development server (the demo, the tests' live server) writes headers and
    body separately; with Nagle's algorithm on, every kept-alive request then waits about
    40 ms for a delayed ACK. Production serves with gunicorn, which this does not touch."""
    WSGIRequestHandler.disable_nagle_algorithm = True
