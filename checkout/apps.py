from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Orders, payment links, Stripe and fulfilment."""

    name = "checkout"
    label = "checkout"
    verbose_name = "Checkout"
