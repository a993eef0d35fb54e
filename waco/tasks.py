from celery import shared_task

from waco import graph_version, health, stored_secrets


@shared_task(name="waco.tasks.heartbeat")
def heartbeat() -> None:
    """Beat sends this every 30 s; the health endpoint reads how long ago it ran."""
    health.heartbeat_record(name=health.WORKER_HEARTBEAT)


@shared_task(name="waco.tasks.check_stored_secrets")
def check_stored_secrets() -> None:
    """Beat: every stored secret still decrypts, or staff hear which one does not."""
    stored_secrets.secrets_check()


@shared_task(name="waco.tasks.watch_graph_version")
def watch_graph_version() -> str:
    """Beat, daily: staff hear before Meta ends the configured Graph API version (waco.graph_version)."""
    return graph_version.graph_version_watch()
