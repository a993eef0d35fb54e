"""The catalog API's OpenAPI documentation (drf-spectacular): summaries, bodies and one example per operation.

Kept apart from catalog.api so that the views stay short; each constant is the
keyword arguments of one operation's @extend_schema.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from catalog.serializers import (
    ProductArchiveResultSerializer,
    ProductBatchResultSerializer,
    ProductBatchSerializer,
    ProductFilterSerializer,
    ProductInSerializer,
    ProductSerializer,
    ProductWriteResultSerializer,
    StockPushResultSerializer,
    StockPushSerializer,
)

TAGS = ["catalog"]

ACCOUNT_QUERY = OpenApiParameter(
    "account",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="The WABA id, when two of the key's business accounts have a product of this id.",
)

PRODUCT_BODY_EXAMPLE = {
    "name": "Linen Abaya",
    "description": "Breathable linen, relaxed fit.",
    "category": "Abayas",
    "image_urls": ["https://shop.example/img/abaya.jpg"],
    "variants": [
        {"sku": "ABY-M-SAND", "options": {"size": "M", "colour": "Sand"}, "price_minor": 32050, "currency": "AED"},
        {
            "sku": "ABY-L-SAND",
            "options": {"size": "L", "colour": "Sand"},
            "price_minor": 32050,
            "currency": "AED",
            "image_url": "https://shop.example/img/abaya-l.jpg",
        },
    ],
}

PRODUCT_EXAMPLE = {
    "external_id": "ABY-1",
    "account": "102290129340398",
    "name": "Linen Abaya",
    "description": "Breathable linen, relaxed fit.",
    "category": "Abayas",
    "image_urls": ["https://shop.example/img/abaya.jpg"],
    "active": True,
    "updated_at": "2026-12-07T09:00:00Z",
    "variants": [
        {
            "sku": "ABY-M-SAND",
            "options": {"size": "M", "colour": "Sand"},
            "price_minor": 32050,
            "currency": "AED",
            "image_url": "",
            "active": True,
            "on_hand": 4,
            "as_of": "2026-12-07T08:55:00Z",
            "available": 3,
        }
    ],
}

PRODUCT_LIST = {
    "summary": "List products with their variants' stock (cursor pages)",
    "description": "Scope `catalog:read`. Only products of the business accounts the key may see, archived ones "
    "included (`active: false`). `available` is what the thread can sell now: `on_hand` less units held by open "
    "checkouts and units sold after `as_of`. `updated_since` keeps products whose own data or a variant's "
    "(price, stock, availability) changed at or after that time.",
    "tags": TAGS,
    "parameters": [ProductFilterSerializer],
    "responses": {200: ProductSerializer(many=True)},
    "examples": [
        # drf-spectacular wraps a list operation's example in the page (next, previous, results).
        OpenApiExample("A page of products", value=PRODUCT_EXAMPLE, response_only=True)
    ],
}


PRODUCT_GET = {
    "summary": "Read one product with its variants' stock",
    "description": "Scope `catalog:read`. A product of a business account the key may not see answers 404.",
    "tags": TAGS,
    "parameters": [ACCOUNT_QUERY],
    "responses": {200: ProductSerializer},
    "examples": [OpenApiExample("A product", value=PRODUCT_EXAMPLE, response_only=True)],
}

PRODUCT_PUT = {
    "summary": "Create or replace a product with its variants",
    "description": "Scope `catalog:write`. The body is the whole product: its variants left out are archived "
    '(never deleted: orders point at them); a missing category files it under "Uncategorised". SKUs are unique '
    "per business account (a SKU listed here moves to this product). The same body again changes nothing and "
    "answers `unchanged` (201 when created). A variant may carry `on_hand` and `as_of`, applied as POST /stock "
    "would. An invalid body stores nothing of the product.",
    "tags": TAGS,
    "request": ProductInSerializer,
    "responses": {200: ProductWriteResultSerializer, 201: ProductWriteResultSerializer},
    "examples": [
        OpenApiExample("A product with two sizes", value=PRODUCT_BODY_EXAMPLE, request_only=True),
        OpenApiExample(
            "Created", value={**PRODUCT_EXAMPLE, "result": "created"}, response_only=True, status_codes=["201"]
        ),
    ],
}

PRODUCT_DELETE = {
    "summary": "Archive a product and its variants",
    "description": "Scope `catalog:write`. The product leaves the thread and the Meta catalog; it stays for the "
    "orders that point at it, and a later PUT brings it back. Again: `unchanged`.",
    "tags": TAGS,
    "parameters": [ACCOUNT_QUERY],
    "responses": {200: ProductArchiveResultSerializer},
    "examples": [OpenApiExample("Archived", value={"external_id": "ABY-1", "result": "archived"}, response_only=True)],
}

PRODUCT_BATCH = {
    "summary": "Create or replace up to 1,000 products",
    "description": "Scope `catalog:write`. Each product as in PUT /products/{external_id}, with its `external_id`. "
    "Answers one result per product in the request's order: `created`, `updated`, `unchanged`, `invalid` (with "
    "`errors`: nothing of that product was stored) or `failed` (written concurrently: retry it). One bad product "
    "spoils nothing else. More than 1,000 products: 422.",
    "tags": TAGS,
    "request": ProductBatchSerializer,
    "responses": {200: ProductBatchResultSerializer},
    "examples": [
        OpenApiExample(
            "Two products",
            value={
                "products": [
                    {"external_id": "ABY-1", **PRODUCT_BODY_EXAMPLE},
                    {
                        "external_id": "SCF-9",
                        "name": "Silk Scarf",
                        "variants": [{"sku": "SCF-9", "price_minor": 9900, "currency": "AED"}],
                    },
                ]
            },
            request_only=True,
        ),
        OpenApiExample(
            "Results",
            value={
                "results": [
                    {"external_id": "ABY-1", "result": "unchanged"},
                    {
                        "external_id": "SCF-9",
                        "result": "invalid",
                        "errors": [
                            {
                                "pointer": "/products/1/variants/0/currency",
                                "detail": "'XYZ' is not a supported ISO 4217 currency code.",
                            }
                        ],
                    },
                ]
            },
            response_only=True,
        ),
    ],
}

STOCK_PUSH = {
    "summary": "Report stock levels (up to 1,000)",
    "description": "Scope `catalog:write`. Each level is `on_hand` units of a SKU as counted at `as_of`. Answers per "
    "level, in order: `applied`, `unchanged` (the same figure, or a retry), `stale` (its `as_of` is not later than "
    "the level held: ignored) or `unknown_sku`. Units sold in WhatsApp after a level's `as_of` stay out of "
    "`available`, so a level counted before a sale never offers the sold units again. A level's `account` "
    "the key may not see refuses the whole push (404); an invalid level refuses it too (422), storing nothing.",
    "tags": TAGS,
    "request": StockPushSerializer,
    "responses": {200: StockPushResultSerializer},
    "examples": [
        OpenApiExample(
            "Two levels",
            value={
                "levels": [
                    {"sku": "ABY-M-SAND", "on_hand": 4, "as_of": "2026-12-07T08:55:00Z"},
                    {"sku": "NOPE-1", "on_hand": 1, "as_of": "2026-12-07T08:55:00Z"},
                ]
            },
            request_only=True,
        ),
        OpenApiExample(
            "Results",
            value={"results": [{"sku": "ABY-M-SAND", "result": "applied"}, {"sku": "NOPE-1", "result": "unknown_sku"}]},
            response_only=True,
        ),
    ],
}
