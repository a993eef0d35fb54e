"""The sandbox's public operations, callable without HTTP: what tests, the demo and
benchmarks use. The implementations live in the modules named beside each import."""

from datetime import datetime

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
from waco.sandbox.graph.nodes import app_current
from waco.sandbox.graph.outbox import lean_outbox, outbox_list  # noqa: F401
from waco.sandbox.graph.ratelimit import buckets_reset
from waco.sandbox.models import DEFAULT_TOKEN_SCOPES, App, BusinessAccount, PhoneNumber
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


def token_state_set(
    *,
    waba_id: str,
    valid: bool = True,
    expires_at: datetime | None = None,
    scopes: list[str] | tuple[str, ...] = tuple(DEFAULT_TOKEN_SCOPES),
) -> BusinessAccount:
    """What Meta holds of the account's token, all of it at once: valid or invalidated, when it
    expires (None: never) and what it is granted. debug_token answers it; an invalid or expired
    token is refused with 190 everywhere."""
    account = BusinessAccount.objects.get(waba_id=waba_id)
    account.token_valid = valid
    account.token_expires_at = expires_at
    account.token_scopes = list(scopes)
    account.save(update_fields=["token_valid", "token_expires_at", "token_scopes"])
    return account


@transaction.atomic
def app_secret_reset(*, app_secret: str) -> App:
    """Meta's app secret is now `app_secret` (reset in the app dashboard): app access tokens made
    with the secret Waco is configured with are refused from here on."""
    current = app_current()
    App.objects.all().delete()
    return App.objects.create(app_id=current.app_id, app_secret=app_secret, name=current.name)


def sandbox_memory_reset() -> None:
    """Forget in-process state (rate buckets, fault streams, the lean outbox).

    Rarely needed: that state is keyed on the config row, so it starts over by
    itself when the row is recreated or changed.
    """
    buckets_reset()
    faults_reset()
    lean_outbox.clear()
