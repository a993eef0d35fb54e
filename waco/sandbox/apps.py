from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """A local stand-in for Meta and Stripe, for the demo, tests and benchmarks."""

    name = "waco.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"

    def ready(self):
        # Imported here, once the models are loaded: the delivery loop (shared, below the
        # Stripe part) runs Stripe's clock work without importing it.
        from waco.sandbox.delivery import clock_task_register
        from waco.sandbox.stripe.api import sessions_expire_due

        clock_task_register(sessions_expire_due)
