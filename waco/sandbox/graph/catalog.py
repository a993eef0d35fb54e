"""The product catalog batch API: POST /{catalog_id}/items_batch and its status check."""

import secrets

from django.db import transaction

from waco.sandbox.graph.errors import GraphError
from waco.sandbox.models import CatalogBatch, CatalogItem

MAX_REQUESTS = 5000
ITEM_TYPES = ("PRODUCT_ITEM",)


def _apply_create(catalog_id: str, retailer_id: str, data: dict) -> str:
    _, created = CatalogItem.objects.get_or_create(
        catalog_id=catalog_id, retailer_id=retailer_id, defaults={"data": data}
    )
    return "" if created else f"An item with id {retailer_id} already exists."


def _apply_update(catalog_id: str, retailer_id: str, data: dict) -> str:
    # allow_upsert defaults to true at Meta: an update of an unknown item creates it.
    item, created = CatalogItem.objects.get_or_create(
        catalog_id=catalog_id, retailer_id=retailer_id, defaults={"data": data}
    )
    if not created:
        item.data = {**item.data, **data}
        item.save(update_fields=["data", "updated_at"])
    return ""


def _apply_delete(catalog_id: str, retailer_id: str, data: dict) -> str:
    deleted, _ = CatalogItem.objects.filter(catalog_id=catalog_id, retailer_id=retailer_id).delete()
    return "" if deleted else f"No item with id {retailer_id}."


METHODS = {"CREATE": _apply_create, "UPDATE": _apply_update, "DELETE": _apply_delete}


def catalog_items_batch(*, catalog_id: str, payload: dict) -> dict:
    """Apply create/update/delete requests; answers handles and per-item validation_status."""
    if payload.get("item_type") not in ITEM_TYPES:
        raise GraphError(100, f"Param item_type must be one of {', '.join(ITEM_TYPES)}.")
    requests = payload.get("requests")
    if not isinstance(requests, list) or not requests:
        raise GraphError(100, "Param requests must be a non-empty list.")
    if len(requests) > MAX_REQUESTS:
        raise GraphError(100, f"Param requests can contain at most {MAX_REQUESTS} items.")
    errors = []
    with transaction.atomic():
        for index, request in enumerate(requests):
            method = str(request.get("method", "")).upper() if isinstance(request, dict) else ""
            data = request.get("data") if isinstance(request, dict) else None
            retailer_id = str(data.get("id") or data.get("retailer_id") or "") if isinstance(data, dict) else ""
            if method not in METHODS or not retailer_id:
                errors.append(
                    {
                        "retailer_id": retailer_id,
                        "errors": [{"message": f"requests[{index}] needs a method and data.id"}],
                        "warnings": [],
                    }
                )
                continue
            problem = METHODS[method](catalog_id, retailer_id, data)
            if problem:
                errors.append({"retailer_id": retailer_id, "errors": [{"message": problem}], "warnings": []})
        batch = CatalogBatch.objects.create(handle=secrets.token_urlsafe(24), catalog_id=catalog_id, errors=errors)
    result = {"handles": [batch.handle]}
    if errors:
        result["validation_status"] = errors
    return result


def catalog_batch_status(*, catalog_id: str, handle: str) -> dict:
    batch = CatalogBatch.objects.filter(catalog_id=catalog_id, handle=handle).first()
    if batch is None:
        raise GraphError(100, f"Unknown batch handle {handle!r}.")
    return {
        "data": [
            {
                "handle": batch.handle,
                "status": "finished",
                "errors_total_count": len(batch.errors),
                "errors": [
                    {"line": 0, "id": e["retailer_id"], "message": e["errors"][0]["message"]} for e in batch.errors
                ],
            }
        ]
    }


def catalog_products(*, catalog_id: str, limit: int = 100) -> dict:
    items = CatalogItem.objects.filter(catalog_id=catalog_id).order_by("retailer_id")[:limit]
    return {"data": [{**item.data, "retailer_id": item.retailer_id} for item in items]}
