"""This app's resources under /api/v1/ (built on waco.api): products and stock levels.

Writes go through catalog.services (the upsert feeds use too); `available` is catalog.stock's.
A product outside the key's business accounts answers 404, and a write naming one changes nothing.
"""

from django.db.models import Exists, OuterRef, Q
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from catalog import api_docs as docs
from catalog import services, stock
from catalog.models import Product, Variant
from catalog.selectors import variants_with_stock
from catalog.serializers import (
    ProductArchiveResultSerializer,
    ProductBatchItemSerializer,
    ProductBatchSerializer,
    ProductFilterSerializer,
    ProductInSerializer,
    ProductLookupSerializer,
    ProductSerializer,
    StockPushSerializer,
)
from waco.api.problems import Problem, pointer_errors
from waco.api.scoping import account_for_write, visible
from waco.api.views import ApiView


def products_visible(request):
    products = Product.objects.select_related("business_account", "category")
    return visible(products.prefetch_related(variants_with_stock()), request)


def product_found(request, external_id: str, waba_id: str | None) -> Product:
    """The key's product with that id; `?account=` tells apart two accounts' products of one id."""
    lookup = ProductLookupSerializer(data={"external_id": external_id, **({"account": waba_id} if waba_id else {})})
    if not lookup.is_valid():  # no product has such an id (too long, a NUL byte...)
        raise Problem(404, "Not Found", detail="No such product.")
    products = products_visible(request).filter(external_id=external_id)
    if waba_id:
        products = products.filter(business_account__waba_id=waba_id)
    found = list(products[:2])
    if not found:
        raise Problem(404, "Not Found", detail=f"No product {external_id}.")
    if len(found) > 1:
        raise Problem(
            422,
            "Account required",
            detail="Several business accounts have a product of this id: name one with ?account=WABA_ID.",
            type_suffix="account-required",
        )
    return found[0]


def account_of(request, waba_id: str | None, accounts: dict):
    """account_for_write, once per WABA id of a request."""
    if waba_id not in accounts:
        accounts[waba_id] = account_for_write(request, waba_id)
    return accounts[waba_id]


def batch_item(request, index: int, raw: dict, accounts: dict):
    """One product of a batch: its result so far, and (account, spec) when it is fit to write."""
    external_id = raw.get("external_id")
    result = {"external_id": external_id if isinstance(external_id, str) else None}
    body = ProductBatchItemSerializer(data=raw)
    if not body.is_valid():
        return {**result, "result": "invalid", "errors": pointer_errors(body.errors, f"/products/{index}")}, None
    try:
        account = account_of(request, body.validated_data.get("account"), accounts)
    except Problem as refusal:
        error = {"pointer": f"/products/{index}/account", "detail": refusal.detail or refusal.title}
        return {**result, "result": "invalid", "errors": [error]}, None
    return result, (account, body.spec(body.validated_data["external_id"]))


class ProductList(ApiView):
    read_scope, write_scope = "catalog:read", "catalog:write"
    ordering = ("id",)

    @extend_schema(**docs.PRODUCT_LIST)
    def get(self, request):
        query = ProductFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        products = products_visible(request)
        if query.validated_data.get("account"):
            products = products.filter(business_account__waba_id=query.validated_data["account"])
        if "updated_since" in query.validated_data:
            since = query.validated_data["updated_since"]
            variant_moved = Variant.objects.filter(product=OuterRef("pk"), updated_at__gte=since)
            products = products.filter(Exists(variant_moved) | Q(updated_at__gte=since))
        return self.paginate(products, ProductSerializer)


class ProductDetail(ApiView):
    read_scope, write_scope = "catalog:read", "catalog:write"

    @extend_schema(**docs.PRODUCT_GET)
    def get(self, request, external_id: str):
        product = product_found(request, external_id, request.query_params.get("account"))
        return Response(ProductSerializer(product).data)

    @extend_schema(**docs.PRODUCT_PUT)
    def put(self, request, external_id: str):
        body = ProductInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not ProductLookupSerializer(data={"external_id": external_id}).is_valid():
            raise Problem(
                422,
                "Validation failed",
                detail="The product id in the path is not usable.",
                errors=[{"pointer": "", "detail": "external_id: at most 100 characters, no NUL byte."}],
            )
        account = account_for_write(request, body.validated_data.get("account"))
        [put] = services.products_put(items=[(account, body.spec(external_id))], now=timezone.now())
        if put.result == "failed":
            raise Problem(409, "Written concurrently", detail=put.error, type_suffix="concurrent-write")
        product = product_found(request, external_id, account.waba_id)
        return Response(
            {**ProductSerializer(product).data, "result": put.result}, status=201 if put.result == "created" else 200
        )

    @extend_schema(**docs.PRODUCT_DELETE)
    def delete(self, request, external_id: str):
        product = product_found(request, external_id, request.query_params.get("account"))
        archived = services.product_archive(product=product, now=timezone.now())
        return Response(
            ProductArchiveResultSerializer(
                {"external_id": external_id, "result": "archived" if archived else "unchanged"}
            ).data
        )


class ProductBatch(ApiView):
    read_scope, write_scope = "catalog:read", "catalog:write"

    @extend_schema(**docs.PRODUCT_BATCH)
    def post(self, request):
        envelope = ProductBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        results, items, positions, accounts = [], [], [], {}
        for index, raw in enumerate(envelope.validated_data["products"]):
            result, item = batch_item(request, index, raw, accounts)
            results.append(result)
            if item is not None:
                items.append(item)
                positions.append(index)
        for index, put in zip(positions, services.products_put(items=items, now=timezone.now()), strict=True):
            results[index]["result"] = put.result
            if put.error:
                results[index]["errors"] = [{"pointer": f"/products/{index}", "detail": put.error}]
        return Response({"results": results})


class StockPush(ApiView):
    read_scope, write_scope = "catalog:read", "catalog:write"

    @extend_schema(**docs.STOCK_PUSH)
    def post(self, request):
        body = StockPushSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        accounts = {}
        levels = [
            stock.StockLevel(
                business_account_id=account_of(request, level.get("account"), accounts).pk,
                sku=level["sku"],
                on_hand=level["on_hand"],
                as_of=level["as_of"],
            )
            for level in body.validated_data["levels"]
        ]
        outcomes = services.stock_levels_push(levels=levels, now=timezone.now())
        return Response(
            {
                "results": [
                    {"sku": level.sku, "result": outcome} for level, outcome in zip(levels, outcomes, strict=True)
                ]
            }
        )


urlpatterns = [
    path("products", ProductList.as_view(), name="api-products"),
    path("products/batch", ProductBatch.as_view(), name="api-products-batch"),
    path("products/<str:external_id>", ProductDetail.as_view(), name="api-product"),
    path("stock", StockPush.as_view(), name="api-stock"),
]
