from django.apps import AppConfig


class OutboundConfig(AppConfig):
    """The send path: policy, rate limit, retries, statuses."""

    name = "outbound"
    label = "outbound"
    verbose_name = "Outbound"

    def ready(self):
        from outbound import alerts, handlers  # noqa: F401  (handlers registers with ingest)
        from templates_lib.signals import template_status_changed
        from waco import periodic
        from waco.channels.services import phone_number_resumed
        from waco.contacts.services import contact_merged

        template_status_changed.connect(alerts.on_template_status_changed, dispatch_uid="outbound-template-alerts")
        phone_number_resumed.connect(alerts.on_phone_number_resumed, dispatch_uid="outbound-number-resumed")
        contact_merged.connect(alerts.on_contact_merged, dispatch_uid="outbound-contact-merged")

        periodic.register(
            periodic.PeriodicJob(name="outbound.sweep_outbox", task="outbound.sweep_outbox", every_seconds=30)
        )
        periodic.register(
            periodic.PeriodicJob(
                name="outbound.poll_number_health", task="outbound.poll_number_health", every_seconds=15 * 60
            )
        )
