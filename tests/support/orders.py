"""Orders for the tests of the orders API and the storefront's operations (checkout)."""

from datetime import timedelta

from django.utils import timezone

from waco.contacts import services as contacts

TRACK = "https://track.example/DHL123"


def in_the_window(order, *, hours_ago: float = 1) -> None:
    """The customer wrote `hours_ago`: updates about the order go free-form."""
    contacts.window_touch(
        contact=order.contact, phone_number=order.phone_number, inbound_at=timezone.now() - timedelta(hours=hours_ago)
    )
