"""The body limit admits a full batch of what storefronts really send, and refuses a byte more with 413.

The batches are sized like a real shop's: each product with a description, two image URLs and three
variants with options, prices and their own image; each contact with a name, tags and attributes.
"""

import json
from datetime import UTC, datetime

import pytest

from catalog.models import Product, Variant
from catalog.serializers import MAX_BATCH
from tests.channels.factories import BusinessAccountFactory
from waco.api.models import ApiAudit
from waco.contacts.models import Contact
from waco.contacts.serializers import MAX_BATCH as MAX_CONTACTS

pytestmark = pytest.mark.django_db

SIZES = (("S", 29_900), ("M", 32_050), ("L", 34_000))
AS_OF = datetime(2026, 12, 7, 8, 0, tzinfo=UTC).isoformat()


def image(n: int, view: str) -> str:
    """A CDN image URL of about 100 characters, as Shopify's are."""
    return f"https://cdn.shop.example/s/files/1/0612/3456/7890/products/linen-abaya-{n:04d}-{view}.jpg?v=1733568000"


def product(n: int) -> dict:
    return {
        "external_id": f"gid://shopify/Product/{8_800_000_000 + n}",
        "name": f"Linen Abaya No. {n} with Embroidered Cuffs",
        "category": "Abayas",
        "description": "Breathable Belgian linen, cut loose for the summer heat, with hand-embroidered cuffs "
        "and hidden side pockets. Made in Dubai. Machine wash cold, hang to dry, iron on low heat.",
        "image_urls": [image(n, "front"), image(n, "back")],
        "variants": [
            {
                "sku": f"ABY-{n:04d}-{size}",
                "options": {"size": size, "colour": "Desert Sand", "material": "Linen"},
                "price_minor": price,
                "currency": "AED",
                "image_url": image(n, f"detail-{size.lower()}"),
                "on_hand": 12,
                "as_of": AS_OF,
            }
            for size, price in SIZES
        ],
    }


def full_batch() -> dict:
    return {"products": [product(n) for n in range(MAX_BATCH)]}


def padded(body: dict, size: int) -> str:
    """The body as JSON, padded with trailing whitespace (which JSON allows) to exactly `size` bytes."""
    text = json.dumps(body)
    assert len(text) <= size, f"the body alone has {len(text)} bytes"
    return text + " " * (size - len(text))


def post(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


@pytest.fixture
def client(api_client_factory):
    return api_client_factory(
        scopes=["catalog:write", "contacts:write"], accounts=[BusinessAccountFactory(waba_id="200000000000001")]
    )


def test_a_full_product_batch_is_admitted_and_applied_up_to_the_last_byte_of_the_limit(client, settings):
    batch = full_batch()
    size = len(json.dumps(batch))
    print(
        f"a full batch of {MAX_BATCH} products, 3 variants each: {size:,} bytes; the limit: "
        f"{settings.WACO_API_MAX_BODY_BYTES:,}"
    )

    answer = post(client, "/api/v1/products/batch", padded(batch, settings.WACO_API_MAX_BODY_BYTES))

    assert answer.status_code == 200, answer.content[:500]
    assert {r["result"] for r in answer.json()["results"]} == {"created"}
    assert Product.objects.count() == MAX_BATCH
    assert Variant.objects.count() == 3 * MAX_BATCH
    assert Variant.objects.get(sku="ABY-0999-L").price_minor == 34_000


def test_a_body_one_byte_over_the_limit_is_refused_with_413_and_nothing_is_stored(client, settings):
    answer = post(client, "/api/v1/products/batch", padded(full_batch(), settings.WACO_API_MAX_BODY_BYTES + 1))

    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == f"A request body may have at most {settings.WACO_API_MAX_BODY_BYTES} bytes."
    assert not Product.objects.exists() and not Variant.objects.exists()
    assert list(ApiAudit.objects.values_list("status", flat=True)) == [413]  # refused, and the refusal audited


def test_a_full_stock_push_fits(client, settings):
    assert post(client, "/api/v1/products/batch", json.dumps(full_batch())).status_code == 200
    later = datetime(2026, 12, 7, 9, 0, tzinfo=UTC).isoformat()  # an hour after the batch's levels
    skus = Variant.objects.order_by("sku").values_list("sku", flat=True)[:MAX_BATCH]
    body = json.dumps({"levels": [{"sku": sku, "on_hand": 7, "as_of": later} for sku in skus]})
    assert len(body) < settings.WACO_API_MAX_BODY_BYTES

    answer = post(client, "/api/v1/stock", body)

    assert answer.status_code == 200, answer.content[:500]
    assert [r["result"] for r in answer.json()["results"]] == ["applied"] * MAX_BATCH
    assert Variant.objects.filter(on_hand=7).count() == MAX_BATCH


def test_a_full_contact_batch_fits(client, settings):
    contacts = [
        {
            "contact": f"+971 50 {n:03d} {n:04d}",
            "name": f"Amal Al Mansoori {n}",
            "language": "ar",
            "time_zone": "Asia/Dubai",
            "tags": ["vip", "abayas", "ramadan-2026"],
            "attributes": {
                "shopify_customer_id": 7_700_000_000 + n,
                "lifetime_value_aed": 4_250.5,
                "orders": 7,
                "city": "Dubai",
                "accepts_marketing": True,
            },
        }
        for n in range(MAX_CONTACTS)
    ]
    body = json.dumps({"contacts": contacts})
    assert len(body) < settings.WACO_API_MAX_BODY_BYTES

    answer = post(client, "/api/v1/contacts/batch", body)

    assert answer.status_code == 200, answer.content[:500]
    assert {r["result"] for r in answer.json()["results"]} == {"created"}
    assert Contact.objects.count() == MAX_CONTACTS
