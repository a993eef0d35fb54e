"""The shop the chat-page journeys play in."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.push import catalog_push_to_meta
from tests.support.chat_page import CATALOG_ID, PASSWORD, SHOP
from tests.support.sandbox_shop import ABAYA_SIZES, abaya_stock, sandbox_shop_wire, sandbox_stripe_wire, worker_start


@pytest.fixture
def chat_shop(transactional_db, seed_keywords, settings, live_server, tmp_path):
    """A number with one product in four sizes, its catalog pushed to the sandbox's Meta catalog,
    the sandbox's delivery thread posting webhooks to the live server, and a real worker."""
    sandbox_stripe_wire(settings, live_server)
    shop = sandbox_shop_wire(settings, live_server, name=SHOP, catalog_id=CATALOG_ID)
    abaya_stock(
        shop,
        catalog_id=CATALOG_ID,
        sizes=(*ABAYA_SIZES, ("XL", 360_00, 3)),
        description="Breathable linen, made in Dubai.",
        image_urls=["/static/catalog/demo/abaya.png"],
    )
    assert catalog_push_to_meta(business_account=shop.account, now=timezone.now()).pushed == 4
    get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)

    settings.WACO_SANDBOX_DELIVERY_THREAD = True  # webhooks go out as soon as the sandbox commits them
    worker_start(shop, settings, live_server, tmp_path)
    yield shop
    shop.close()
