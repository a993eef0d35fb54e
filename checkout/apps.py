from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Orders, payment links, Stripe and fulfilment."""

    name = "checkout"
    label = "checkout"
    verbose_name = "Checkout"

    def ready(self):
        from checkout import handlers  # noqa: F401  (the Stripe parser and handler, registered with ingest)
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="checkout.reconcile_payments",
                task="checkout.reconcile_payments",
                every_seconds=120,
            )
        )
        # Every minute: a reminder is due minutes after a link opens and must beat its expiry.
        periodic.register(
            periodic.PeriodicJob(
                name="checkout.send_payment_reminders",
                task="checkout.send_payment_reminders",
                every_seconds=60,
            )
        )
