"""The catalog batch API: items pushed by Waco are stored and reported per item."""

import pytest

from tests.support.sandbox_graph import assert_graph_error
from tests.support.sandbox_shop import CATALOG_ID
from waco.sandbox.models import CatalogItem

pytestmark = pytest.mark.usefixtures("number")


def _item(retailer_id, **fields):
    return {
        "id": retailer_id,
        "title": retailer_id.title(),
        "price": "10.00 USD",
        "availability": "in stock",
        **fields,
    }


def test_items_batch_stores_items_and_answers_a_handle(graph):
    response = graph.post(
        f"{CATALOG_ID}/items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "requests": [
                {"method": "CREATE", "data": _item("burger")},
                {"method": "UPDATE", "data": _item("fries", price="4.00 USD")},
            ],
        },
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert list(answer) == ["handles"] and len(answer["handles"]) == 1
    assert set(CatalogItem.objects.values_list("retailer_id", flat=True)) == {"burger", "fries"}
    status = graph.get(f"{CATALOG_ID}/check_batch_request_status", {"handle": answer["handles"][0]}).json()
    assert status["data"][0]["status"] == "finished" and status["data"][0]["errors_total_count"] == 0


def test_items_batch_updates_and_deletes(graph):
    graph.post(
        f"{CATALOG_ID}/items_batch",
        {"item_type": "PRODUCT_ITEM", "requests": [{"method": "CREATE", "data": _item("burger")}]},
    )
    graph.post(
        f"{CATALOG_ID}/items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "requests": [
                {"method": "UPDATE", "data": {"id": "burger", "price": "12.00 USD"}},
            ],
        },
    )
    [product] = graph.get(f"{CATALOG_ID}/products").json()["data"]
    assert product["price"] == "12.00 USD" and product["title"] == "Burger"
    graph.post(
        f"{CATALOG_ID}/items_batch",
        {"item_type": "PRODUCT_ITEM", "requests": [{"method": "DELETE", "data": {"id": "burger"}}]},
    )
    assert graph.get(f"{CATALOG_ID}/products").json()["data"] == []


def test_items_batch_reports_per_item_errors(graph):
    answer = graph.post(
        f"{CATALOG_ID}/items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "requests": [
                {"method": "DELETE", "data": {"id": "ghost"}},
                {"method": "EXPLODE", "data": {"id": "x"}},
                {"method": "CREATE", "data": _item("ok")},
            ],
        },
    ).json()
    assert [s["retailer_id"] for s in answer["validation_status"]] == ["ghost", "x"]
    assert CatalogItem.objects.filter(retailer_id="ok").exists()


def test_items_batch_accepts_form_encoded_requests(client):
    import json

    response = client.post(
        f"/sandbox/graph/v24.0/{CATALOG_ID}/items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "requests": json.dumps([{"method": "CREATE", "data": _item("tea")}]),
            "access_token": "sandbox-test-token",
        },
    )
    assert response.status_code == 200, response.content
    assert CatalogItem.objects.filter(retailer_id="tea").exists()


def test_items_batch_on_an_unknown_catalog_is_refused_with_100(graph):
    assert_graph_error(
        graph.post(
            "999/items_batch",
            {"item_type": "PRODUCT_ITEM", "requests": [{"method": "CREATE", "data": _item("x")}]},
        ),
        100,
    )


def test_items_batch_without_item_type_is_refused_with_100(graph):
    assert_graph_error(
        graph.post(f"{CATALOG_ID}/items_batch", {"requests": [{"method": "CREATE", "data": _item("x")}]}), 100
    )
