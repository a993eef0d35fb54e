"""A shop for the chat-page journeys: one abaya in four sizes, its catalog pushed to the sandbox's
Meta catalog, the sandbox (as Meta and as Stripe) delivering webhooks to the live server, a real worker."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.push import catalog_push_to_meta
from checkout.stripe_client import stripe_clients_close
from tests.catalog.factories import CategoryFactory, ProductFactory, ShopFactory, VariantFactory
from tests.outbound.meta import TOKEN, wire_shop
from tests.workers import celery_worker
from waco.sandbox import services as sandbox

SHOP = "Linen House"
CATALOG_ID = "400000000000077"
PASSWORD = "a-strong-staff-password-123"


@pytest.fixture
def chat_shop(transactional_db, seed_keywords, settings, live_server, tmp_path):
    """A number with one product in four sizes, its catalog pushed to the sandbox's Meta catalog,
    the sandbox's delivery thread posting webhooks to the live server, and a real worker."""
    settings.WACO_PAIR_RATE_PER_MINUTE, settings.WACO_PAIR_BURST = 6000, 100  # the sandbox's pair limit
    settings.WACO_PUBLIC_URL = live_server.url  # product images and payment links are served by the live server
    settings.WACO_STRIPE_API_BASE = f"{live_server.url}/sandbox/stripe"
    settings.WACO_SANDBOX_STRIPE_WEBHOOK_URL = f"{live_server.url}/webhooks/stripe/"
    shop = wire_shop(settings, live_server)
    number = shop.number
    type(number).objects.filter(pk=number.pk).update(verified_name=SHOP)
    sandbox.sandbox_seed(
        waba_id=number.business_account.waba_id,
        phone_number_id=number.graph_id,
        display_phone_number=number.display_phone_number.replace("+", "").replace(" ", ""),
        access_token=TOKEN,
        verified_name=SHOP,
        catalog_id=CATALOG_ID,
    )
    account = number.business_account
    ShopFactory(business_account=account, meta_catalog_id=CATALOG_ID)
    product = ProductFactory(
        category=CategoryFactory(business_account=account, name="Abayas"),
        name="Linen Abaya",
        description="Breathable linen, made in Dubai.",
        image_urls=["/static/catalog/demo/abaya.png"],
    )
    shop.variants = {
        size: VariantFactory(
            product=product, sku=f"ABY-{size}", attributes={"size": size}, price_minor=price, on_hand=stock
        )
        for size, price, stock in (("S", 300_00, 0), ("M", 320_00, 4), ("L", 340_00, 10), ("XL", 360_00, 3))
    }
    assert catalog_push_to_meta(business_account=account, now=timezone.now()).pushed == 4
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)

    settings.WACO_SANDBOX_DELIVERY_THREAD = True  # webhooks go out as soon as the sandbox commits them
    env = {
        "WACO_GRAPH_API_BASE": settings.WACO_GRAPH_API_BASE,
        "WACO_PUBLIC_URL": live_server.url,
        "WACO_STRIPE_API_BASE": settings.WACO_STRIPE_API_BASE,
        "WACO_PAIR_RATE_PER_MINUTE": "6000",
        "WACO_PAIR_BURST": "100",
    }
    worker = celery_worker(tmp_path / "worker.log", env=env).start()
    yield shop
    worker.stop()
    sandbox.worker_stop()
    stripe_clients_close()
    print("--- worker log tail ---\n" + worker.log_tail())
