from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Events to the storefront: endpoints, the event outbox, signed deliveries."""

    name = "waco.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(name="events.sweep_deliveries", task="events.sweep_deliveries", every_seconds=30)
        )
