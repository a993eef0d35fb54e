"""The demo shop: what `make demo` seeds on Waco's side and in the sandbox."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.db import transaction

from catalog.demo_data import demo_catalog_seed
from catalog.models import Shop
from templates_lib.demo_data import demo_templates_seed, demo_templates_submit
from waco.channels.models import BusinessAccount, MessagingLimitTier, PhoneNumber

DEMO_WABA_ID = "200000000000001"
DEMO_DISPLAY_NUMBER = "+971 50 000 0001"
DEMO_SHOP_NAME = "Waco Demo Shop"
# The sandbox accepts this token; it is a stand-in, never a real Meta token.
DEMO_ACCESS_TOKEN = "demo-sandbox-system-user-token"
DEMO_ADMIN_USERNAME = "admin"
DEMO_CATALOG_ID = "400000000000001"


@transaction.atomic
def demo_seed_channels() -> PhoneNumber:
    """The demo business account and number on Waco's side (idempotent)."""
    account, _ = BusinessAccount.objects.get_or_create(
        waba_id=DEMO_WABA_ID,
        defaults={
            "name": DEMO_SHOP_NAME,
            "access_token": DEMO_ACCESS_TOKEN,
            "messaging_limit_tier": MessagingLimitTier.TIER_2K,
        },
    )
    number, _ = PhoneNumber.objects.get_or_create(
        graph_id=settings.WACO_DEMO_PHONE_NUMBER_ID,
        defaults={
            "business_account": account,
            "display_phone_number": DEMO_DISPLAY_NUMBER,
            "verified_name": DEMO_SHOP_NAME,
        },
    )
    return number


def demo_seed_sandbox() -> bool:
    """The same account and number inside the sandbox (Meta's side), when installed."""
    if "sandbox_seed" not in get_commands():
        return False
    call_command(
        "sandbox_seed",
        waba_id=DEMO_WABA_ID,
        phone_number_id=settings.WACO_DEMO_PHONE_NUMBER_ID,
        display_phone_number=DEMO_DISPLAY_NUMBER,
        access_token=DEMO_ACCESS_TOKEN,
        verified_name=DEMO_SHOP_NAME,
        catalog_id=DEMO_CATALOG_ID,
    )
    return True


def demo_seed_catalog(*, phone_number: PhoneNumber):
    """A catalog that looks real (AED prices, sizes and colours, some sold out), idempotent."""
    account = phone_number.business_account
    Shop.objects.get_or_create(business_account=account, defaults={"meta_catalog_id": DEMO_CATALOG_ID})
    return demo_catalog_seed(business_account=account)


def demo_seed_templates(*, phone_number: PhoneNumber) -> int:
    """Drafts of the demo templates in their purpose chains; submitted once the web server answers."""
    return len(demo_templates_seed(business_account=phone_number.business_account))


def demo_submit_templates(*, phone_number: PhoneNumber) -> int:
    """Send the drafts to the sandbox for review; its webhook approves them, as Meta's would."""
    return demo_templates_submit(business_account=phone_number.business_account)


def demo_admin_reset_password() -> tuple[str, str]:
    """Create the admin user (or give it a fresh password) and return its credentials."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_ADMIN_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return DEMO_ADMIN_USERNAME, password
