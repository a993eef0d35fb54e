"""The demo chat page's JSON: one customer's thread with a business number, ticks, catalog, media."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.sandbox_graph import customer_says
from tests.support.sandbox_shop import CATALOG_ID, CUSTOMER, PHONE_NUMBER_ID, WABA_ID
from waco.sandbox.graph.media import placeholder
from waco.sandbox.models import Delivery, InboundMessage, SentMessage
from waco.sandbox.services import config_update, deliveries_flush, sandbox_seed

THREAD = "/demo/chat/api/thread"
OTHER_CUSTOMER = "15550001111"


def thread(client, **params):
    response = client.get(THREAD, {"wa_id": CUSTOMER, **params})
    assert response.status_code == 200, response.content
    return response.json()


def customer_post(client, payload):
    response = client.post("/sandbox/customer/messages", json.dumps(payload), "application/json")
    assert response.status_code == 200, response.content


def age_everything(seconds=60):
    """As if the messages were sent a while ago: past the overlap the API repeats."""
    past = timezone.now() - timedelta(seconds=seconds)
    InboundMessage.objects.update(created_at=past)
    SentMessage.objects.update(created_at=past)


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "wa_id must be the customer's phone number in digits (6 to 20)"),
        ({"wa_id": "+1 555"}, "wa_id must be the customer's phone number in digits (6 to 20)"),
        ({"wa_id": CUSTOMER, "since": "abc"}, 'since must be a cursor from a previous answer, like "12.40"'),
        ({"wa_id": CUSTOMER, "phone_number_id": "999"}, "phone_number_id 999 is not a sandbox number"),
    ],
    ids=["missing-wa-id", "not-digits", "bad-cursor", "unknown-number"],
)
def test_bad_input_is_refused_with_a_clear_message(client, number, params, message):
    response = client.get(THREAD, params)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_without_a_seeded_number_the_answer_says_how_to_seed_one(client, db):
    response = client.get(THREAD, {"wa_id": CUSTOMER})
    assert response.status_code == 400
    assert "run manage.py sandbox_seed" in response.json()["error"]


def test_the_thread_accepts_only_get(client, number):
    assert client.post(THREAD, {"wa_id": CUSTOMER}).status_code == 405


# --- the thread ------------------------------------------------------------------------


def test_customer_and_business_messages_come_oldest_first(client, number, graph):
    first = customer_says(client, "hi")
    reply = graph.text(body="Welcome *Ada*").json()["messages"][0]["id"]
    second = customer_says(client, "menu please")

    answer = thread(client)

    assert [(i["from"], i["wamid"]) for i in answer["items"]] == [
        ("customer", first),
        ("business", reply),
        ("customer", second),
    ]
    assert answer["items"][0]["message"]["text"] == {"body": "hi"}
    assert answer["items"][1]["message"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": "Welcome *Ada*"},
    }
    assert answer["typing"] is False


def test_other_customers_and_other_numbers_stay_out_of_the_thread(client, number, graph):
    other_number = sandbox_seed(
        waba_id=WABA_ID,
        phone_number_id="200000000000002",
        display_phone_number="15550000002",
        access_token="t",
    )
    customer_says(client, "mine")
    customer_says(client, "not mine", wa_id=OTHER_CUSTOMER)
    customer_says(client, "other shop", phone_number_id=other_number.phone_number_id)
    graph.text(to=OTHER_CUSTOMER, body="for someone else")

    texts = [i["message"]["text"]["body"] for i in thread(client)["items"]]

    assert texts == ["mine"]
    other = thread(client, phone_number_id=other_number.phone_number_id)
    assert [i["message"]["text"]["body"] for i in other["items"]] == ["other shop"]


def test_since_returns_only_items_after_the_cursor(client, number, graph):
    customer_says(client, "hi")
    graph.text(body="Welcome")
    cursor = thread(client)["cursor"]
    age_everything()

    assert thread(client, since=cursor)["items"] == []

    later = graph.text(body="Anything else?").json()["messages"][0]["id"]
    answer = thread(client, since=cursor)
    assert [i["wamid"] for i in answer["items"]] == [later]
    assert answer["cursor"] != cursor
    age_everything()
    assert thread(client, since=answer["cursor"])["items"] == []


def test_items_of_the_last_seconds_are_repeated_so_a_late_commit_is_not_skipped(client, number, graph):
    customer_says(client, "hi")
    first = thread(client)
    repeated = thread(client, since=first["cursor"])
    # Same keys: the page skips what it has already drawn.
    assert [i["key"] for i in repeated["items"]] == [i["key"] for i in first["items"]]
    assert repeated["cursor"] == first["cursor"]


def test_inbound_media_and_orders_carry_their_content(client, number):
    png, _ = placeholder("image")
    payload = {
        "from": CUSTOMER,
        "phone_number_id": PHONE_NUMBER_ID,
        "message": {"type": "image", "image": {"caption": "this one"}},
        "media_base64": base64.b64encode(png).decode(),
    }
    customer_post(client, payload)
    item = {"product_retailer_id": "SKU1", "quantity": 2, "item_price": 10.5, "currency": "AED"}
    order = {"product_items": [item]}
    customer_post(client, {"from": CUSTOMER, "message": {"type": "order", "order": order}})

    image, sent_order = [i["message"] for i in thread(client)["items"]]

    assert image["image"]["caption"] == "this one"
    media = client.get(f"/demo/chat/api/media/{image['image']['id']}")
    assert media.status_code == 200 and media["Content-Type"] == "image/png" and media.content == png
    assert sent_order["order"] == {**order, "catalog_id": CATALOG_ID, "text": ""}
    assert client.get("/demo/chat/api/media/123").status_code == 404


# --- ticks ------------------------------------------------------------------------------


def test_business_ticks_follow_the_statuses_the_sandbox_generates(client, number, graph):
    config_update(changes={"status_delays_ms": {"sent": 0, "delivered": 0, "read": 60_000}})
    customer_says(client, "hi")
    wamid = graph.text(body="Hello").json()["messages"][0]["id"]
    answer = thread(client)
    assert answer["items"][-1]["status"] == "delivered"
    age_everything()

    # The read receipt comes due: reported for the message though it is behind the cursor.
    Delivery.objects.filter(ref=wamid, status="read").update(next_attempt_at=timezone.now())
    again = thread(client, since=answer["cursor"])
    assert again["items"] == []
    assert again["ticks"][wamid] == "read"


def test_a_send_outside_the_window_shows_failed(client, number, graph):
    wamid = graph.text(body="Hello?").json()["messages"][0]["id"]
    assert thread(client)["ticks"][wamid] == "failed"


def test_customer_ticks_are_sent_then_delivered_then_read(client, number, graph, receiver):
    wamid = customer_says(client, "hi")
    assert thread(client)["ticks"][wamid] == "sent"

    # The webhook reached Waco (here the test's receiver).
    deliveries_flush()
    assert thread(client)["ticks"][wamid] == "delivered"

    graph.send({"messaging_product": "whatsapp", "status": "read", "message_id": wamid})
    assert thread(client)["ticks"][wamid] == "read"


def test_typing_shows_until_the_business_answers(client, number, graph):
    wamid = customer_says(client, "hi")
    graph.send(
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
            "typing_indicator": {"type": "text"},
        }
    )
    assert thread(client)["typing"] is True
    graph.text(body="Here you go")
    assert thread(client)["typing"] is False


# --- templates and the catalog --------------------------------------------------------------


def test_a_template_is_shown_with_its_parameters_filled_in(client, number, graph):
    config_update(changes={"template_review_delay_seconds": 0})
    graph.post(
        f"{WABA_ID}/message_templates",
        {
            "name": "receipt",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                {"type": "BODY", "text": "Hi {{1}}, you paid {{2}}."},
                {"type": "FOOTER", "text": "Waco shop"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "URL", "text": "Track", "url": "https://t.example/{{1}}"},
                        {"type": "QUICK_REPLY", "text": "Stop"},
                    ],
                },
            ],
        },
    )
    spec = {
        "name": "receipt",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "42"}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ada"},
                    {
                        "type": "currency",
                        "currency": {"fallback_value": "AED 10.00", "code": "AED", "amount_1000": 10000},
                    },
                ],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "42"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "STOP-42"}],
            },
        ],
    }
    response = graph.send({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": spec})
    assert response.status_code == 200, response.content

    [item] = thread(client)["items"]

    assert item["template"] == {
        "header": {"type": "text", "text": "Order 42"},
        "body": "Hi Ada, you paid AED 10.00.",
        "footer": "Waco shop",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://t.example/42"},
            {"type": "QUICK_REPLY", "text": "Stop", "payload": "STOP-42"},
        ],
    }


def test_the_catalog_lists_products_with_prices_split_for_orders(client, number, graph):
    graph.post(
        f"{CATALOG_ID}/items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "requests": [
                {
                    "method": "CREATE",
                    "data": {
                        "id": "ABAYA-M",
                        "title": "Linen Abaya",
                        "price": "320.50 AED",
                        "availability": "in stock",
                        "image_link": "http://x/a.svg",
                    },
                },
                {
                    "method": "CREATE",
                    "data": {"id": "BAG", "title": "Bag", "price": "99.00 AED", "availability": "out of stock"},
                },
            ],
        },
    )

    answer = client.get("/demo/chat/api/catalog").json()

    assert answer["catalog_id"] == CATALOG_ID
    assert [(p["retailer_id"], p["amount"], p["currency"], p["available"]) for p in answer["products"]] == [
        ("ABAYA-M", "320.50", "AED", True),
        ("BAG", "99.00", "AED", False),
    ]
    assert answer["products"][0]["image"] == "http://x/a.svg"


def test_the_page_lists_the_business_numbers(client, number):
    response = client.get("/demo/chat/", {"wa_id": CUSTOMER, "name": "Ada"})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'"phone_number_id": "{PHONE_NUMBER_ID}"' in page
    assert "sandbox/chat/chat.js" in page and "/sandbox/customer/messages" in page
