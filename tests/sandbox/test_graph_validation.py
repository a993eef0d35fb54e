"""Every refusal answers synchronously in Meta's exact error shape and code."""

import pytest
import time_machine

from tests.support.sandbox_graph import assert_graph_error
from tests.support.sandbox_shop import CUSTOMER, PHONE_NUMBER_ID, WABA_ID
from waco.sandbox.services import config_update

pytestmark = pytest.mark.usefixtures("number")


def _interactive(interactive):
    return {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "interactive",
        "interactive": interactive,
    }


def _buttons(titles, ids=None):
    ids = ids or [f"b{i}" for i in range(len(titles))]
    return _interactive(
        {
            "type": "button",
            "body": {"text": "Pick one"},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in zip(ids, titles, strict=True)]
            },
        }
    )


def _list(sections, body="Browse"):
    return _interactive({"type": "list", "body": {"text": body}, "action": {"button": "Menu", "sections": sections}})


def _rows(count, title="Row"):
    return [{"id": f"r{i}", "title": title} for i in range(count)]


def _approve(graph, name, body_text):
    config_update(changes={"template_review_delay_seconds": 0})
    response = graph.post(
        f"{WABA_ID}/message_templates",
        {
            "name": name,
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": body_text}],
        },
    )
    assert response.status_code == 200, response.content


def _template_send(name, language="en_US", parameters=None):
    components = (
        []
        if parameters is None
        else [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    )
    return {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


def test_missing_bearer_token_is_refused_with_190(graph):
    error = assert_graph_error(
        graph.send({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x"}}, token=None),
        190,
        401,
    )
    assert "(#" not in error["message"]


def test_wrong_bearer_token_is_refused_with_190(graph):
    assert_graph_error(
        graph.send({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x"}}, token="stolen"),
        190,
        401,
    )


def test_send_from_unknown_number_is_refused_with_100(graph):
    assert_graph_error(
        graph.send({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x"}}, phone_number_id="999"),
        100,
    )


def test_malformed_json_is_refused_with_100(graph):
    assert_graph_error(graph.post(f"{PHONE_NUMBER_ID}/messages", None, raw="{not json"), 100)


@pytest.mark.parametrize(
    "body",
    [
        {"to": CUSTOMER, "type": "text", "text": {"body": "no product"}},
        {"messaging_product": "whatsapp", "type": "text", "text": {"body": "no recipient"}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "hologram"},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": ""}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "x" * 4097}},
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "image",
            "image": {"id": "1", "link": "https://x/y.png"},
        },
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": "404"}},
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "location",
            "location": {"latitude": "north"},
        },
    ],
    ids=[
        "no-messaging-product",
        "no-to",
        "unknown-type",
        "empty-text",
        "text-too-long",
        "id-and-link",
        "unknown-media-id",
        "bad-location",
    ],
)
def test_malformed_send_is_refused_with_100(graph, body):
    assert_graph_error(graph.send(body), 100)


def test_unknown_template_is_refused_with_132001(graph):
    assert_graph_error(graph.send(_template_send("no_such_template")), 132001, 404)


def test_template_in_another_language_is_refused_with_132001(graph):
    _approve(graph, "order_update", "Your order {{1}} shipped")
    assert_graph_error(graph.send(_template_send("order_update", "pt_BR", ["42"])), 132001, 404)


def test_template_still_under_review_is_refused_with_132001(graph):
    graph.post(
        f"{WABA_ID}/message_templates",
        {
            "name": "slow_review",
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hi"}],
        },
    )
    assert_graph_error(graph.send(_template_send("slow_review")), 132001, 404)


@pytest.mark.parametrize("parameters", [[], ["42"], ["42", "Ada", "extra"]])
def test_wrong_template_parameter_count_is_refused_with_132000(graph, parameters):
    _approve(graph, "order_ready", "Order {{1}} is ready for {{2}}")
    error = assert_graph_error(graph.send(_template_send("order_ready", parameters=parameters)), 132000)
    assert f"({len(parameters)})" in error["error_data"]["details"]


def test_right_template_parameter_count_is_accepted(graph):
    _approve(graph, "order_ready", "Order {{1}} is ready for {{2}}")
    assert graph.send(_template_send("order_ready", parameters=["42", "Ada"])).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        _buttons(["One", "Two", "Three", "Four"]),
        _buttons(["x" * 21]),
        _buttons(["Same", "Same"]),
        _buttons(["A", "B"], ids=["dup", "dup"]),
        _buttons([]),
        _list([{"title": "All", "rows": _rows(11)}]),
        _list([{"title": "First", "rows": _rows(6)}, {"title": "Second", "rows": _rows(5)}]),
        _list([{"title": "Menu", "rows": _rows(1, title="x" * 25)}]),
        _list([{"title": "x" * 25, "rows": _rows(1)}]),
        _list([{"rows": _rows(1)}, {"rows": _rows(1)}]),
        _list([{"title": f"s{i}", "rows": _rows(1)} for i in range(11)]),
        _list([{"title": "Menu", "rows": _rows(1)}], body="x" * 1025),
        _interactive(
            {
                "type": "product_list",
                "header": {"type": "text", "text": "Shop"},
                "body": {"text": "All"},
                "action": {
                    "catalog_id": "1",
                    "sections": [
                        {
                            "title": "All",
                            "product_items": [{"product_retailer_id": str(i)} for i in range(31)],
                        }
                    ],
                },
            }
        ),
        _interactive(
            {
                "type": "cta_url",
                "body": {"text": "Pay"},
                "action": {
                    "name": "cta_url",
                    "parameters": {"display_text": "x" * 21, "url": "https://pay.example"},
                },
            }
        ),
        _interactive(
            {
                "type": "button",
                "header": {"type": "text", "text": "x" * 61},
                "body": {"text": "b"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
            }
        ),
        _interactive({"type": "carousel"}),
    ],
    ids=[
        "four-buttons",
        "button-title-21",
        "duplicate-titles",
        "duplicate-ids",
        "no-buttons",
        "eleven-rows",
        "eleven-rows-over-sections",
        "row-title-25",
        "section-title-25",
        "untitled-sections",
        "eleven-sections",
        "body-1025",
        "thirty-one-products",
        "cta-text-21",
        "header-61",
        "unknown-interactive",
    ],
)
def test_interactive_over_meta_limits_is_refused_with_100(graph, body):
    assert_graph_error(graph.send(body), 100)


def test_over_number_throughput_is_refused_with_130429(graph):
    config_update(changes={"numbers": {PHONE_NUMBER_ID: {"messages_per_second": 5}}})
    with time_machine.travel(1_800_000_000, tick=False):
        for i in range(5):
            assert graph.text(to=f"1555000{i:04d}").status_code == 200
        error = assert_graph_error(graph.text(to="15550009999"), 130429)
        assert error["message"] == "(#130429) Rate limit hit"
    with time_machine.travel(1_800_000_001, tick=False):
        assert graph.text(to="15550009999").status_code == 200


def test_same_recipient_too_fast_is_refused_with_131056(graph, settings):
    settings.WACO_PAIR_BURST = 3
    settings.WACO_PAIR_RATE_PER_MINUTE = 10
    with time_machine.travel(1_800_000_000, tick=False):
        for _ in range(3):
            assert graph.text().status_code == 200
        assert_graph_error(graph.text(), 131056)
        # Only that pair is limited.
        assert graph.text(to="15559999999").status_code == 200
    with time_machine.travel(1_800_000_006, tick=False):
        assert graph.text().status_code == 200
        assert_graph_error(graph.text(), 131056)


def test_refused_sends_are_not_in_the_outbox(graph, client):
    graph.send({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x"}}, token="bad")
    graph.send(_buttons(["One", "Two", "Three", "Four"]))
    assert client.get("/sandbox/graph/outbox").json() == []
