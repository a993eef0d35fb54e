"""The sandbox's public operations, callable without HTTP: what tests, the demo and
benchmarks use. The implementations live in the modules named beside each import."""

from django.db import transaction

from waco.sandbox.config import config_get, config_reset, config_update  # noqa: F401
from waco.sandbox.delivery import (  # noqa: F401
    deliveries_flush,
    deliveries_pending,
    http_session_close,
    worker_stop,
    worker_wake,
)
from waco.sandbox.faults import faults_reset
from waco.sandbox.graph.customers import CustomerInputError, customer_message_send  # noqa: F401
from waco.sandbox.graph.message_templates import template_status_set  # noqa: F401
from waco.sandbox.graph.outbox import lean_outbox, outbox_list  # noqa: F401
from waco.sandbox.graph.ratelimit import buckets_reset
from waco.sandbox.models import BusinessAccount, PhoneNumber
from waco.sandbox.signing import signature  # noqa: F401

DEFAULT_VERIFIED_NAME = "Waco Demo Shop"


def sandbox_seed(
    *,
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str,
    access_token: str,
    verified_name: str = DEFAULT_VERIFIED_NAME,
    catalog_id: str = "",
) -> PhoneNumber:
    """Create or update the sandbox's business account and number (idempotent).

    Waco seeds its own side separately, with the same ids and token.
    """
    with transaction.atomic():
        account, _ = BusinessAccount.objects.update_or_create(
            waba_id=waba_id, defaults={"access_token": access_token, "catalog_id": catalog_id}
        )
        number, _ = PhoneNumber.objects.update_or_create(
            phone_number_id=phone_number_id,
            defaults={
                "account": account,
                "display_phone_number": display_phone_number,
                "verified_name": verified_name,
            },
        )
    return number


def sandbox_memory_reset() -> None:
    """Forget in-process state (rate buckets, fault streams, the lean outbox).

    Rarely needed: that state is keyed on the config row, so it starts over by
    itself when the row is recreated or changed.
    """
    buckets_reset()
    faults_reset()
    lean_outbox.clear()
