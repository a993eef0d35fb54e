from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Marketing and notice broadcasts: a template to a segment, with per-recipient outcomes."""

    name = "campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from waco import periodic

        # Starts scheduled campaigns and rings each running one's send (campaigns.tasks.tick).
        periodic.register(periodic.PeriodicJob(name="campaigns.tick", task="campaigns.tick", every_seconds=10))

        # Outcomes: replies and paid orders come as signals from the apps below; statuses by a sync.
        from campaigns import outcomes
        from checkout.signals import order_paid
        from conversations.signals import inbound_message_recorded

        inbound_message_recorded.connect(outcomes.inbound_message_recorded, dispatch_uid="campaigns-replied")
        order_paid.connect(outcomes.order_paid, dispatch_uid="campaigns-ordered")
        periodic.register(
            periodic.PeriodicJob(
                name="campaigns.count_outcomes",
                task="campaigns.count_outcomes",
                every_seconds=outcomes.TOTALS_EVERY_SECONDS,
            )
        )

        # Safety (campaigns.safety): a template stopped or recategorised, an opt-out, a quality webhook.
        from campaigns import handlers, safety  # noqa: F401  (handlers registers with ingest)
        from templates_lib.signals import template_category_changed, template_status_changed
        from waco.contacts.services import consent_changed

        template_status_changed.connect(safety.on_template_status_changed, dispatch_uid="campaigns-template-status")
        template_category_changed.connect(
            safety.on_template_category_changed, dispatch_uid="campaigns-template-category"
        )
        consent_changed.connect(safety.on_consent_changed, dispatch_uid="campaigns-opt-out")
