import factory
from django.utils import timezone

from waco.ingest.models import Delivery, DeliverySource


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A webhook delivery as the webhook view stores it: Meta's, pending, due now."""

    class Meta:
        model = Delivery

    source = DeliverySource.META
    body = "{}"
    headers = factory.LazyFunction(dict)
    received_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.SelfAttribute("received_at")
