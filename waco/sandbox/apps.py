from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """A local stand-in for Meta and Stripe, for the demo, tests and benchmarks."""

    name = "waco.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"
