"""Rendering: the exact Graph `template` object, or a refusal naming the parameter."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from templates_lib.params import TemplateDefinitionError, specs_check, specs_infer, specs_parse
from templates_lib.rendering import render
from templates_lib.services import TemplateRenderError, template_render
from tests.templates_lib.factories import TemplateFactory

RECEIPT = [
    {"type": "HEADER", "format": "TEXT", "text": "Receipt {{1}}"},
    {"type": "BODY", "text": "Hi {{1}}, you paid {{2}} on {{3}} for {{4}} items."},
    {"type": "FOOTER", "text": "Thanks!"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
    },
]
RECEIPT_PARAMETERS = [
    {"component": "header", "position": 1, "name": "receipt_no", "type": "text"},
    {"component": "body", "position": 1, "name": "customer", "type": "text"},
    {"component": "body", "position": 2, "name": "total", "type": "currency"},
    {"component": "body", "position": 3, "name": "paid_at", "type": "date_time"},
    {"component": "body", "position": 4, "name": "count", "type": "number"},
    {"component": "button", "index": 0, "sub_type": "url", "position": 1, "name": "tracking", "type": "text"},
    {"component": "button", "index": 1, "sub_type": "quick_reply", "name": "stop_payload", "type": "payload"},
]
RECEIPT_VALUES = {
    "receipt_no": "R-1001",
    "customer": "Amal",
    "total": {"amount_1000": 125500, "code": "AED"},
    "paid_at": "2026-03-01T14:30:00+00:00",
    "count": 3,
    "tracking": "ABC123",
    "stop_payload": "stop-marketing",
}


def _render(params, components=RECEIPT, parameters=RECEIPT_PARAMETERS, name="order_receipt", language="en_US"):
    return render(name=name, language=language, components=components, parameters=parameters, params=params)


def test_render_produces_the_exact_graph_template_object():
    assert _render(RECEIPT_VALUES) == {
        "name": "order_receipt",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "R-1001"}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Amal"},
                    {
                        "type": "currency",
                        "currency": {"fallback_value": "125.50 AED", "code": "AED", "amount_1000": 125500},
                    },
                    {"type": "date_time", "date_time": {"fallback_value": "2026-03-01 14:30 UTC"}},
                    {"type": "text", "text": "3"},
                ],
            },
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "ABC123"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "stop-marketing"}],
            },
        ],
    }


@pytest.mark.django_db
def test_template_render_uses_the_current_version_and_writes_nothing(django_assert_num_queries):
    template = TemplateFactory(name="order_shipped", language="ar")
    with django_assert_num_queries(0):
        rendered = template_render(template=template, params={"customer": "أمل", "order_id": "42"})
    assert rendered == {
        "name": "order_shipped",
        "language": {"code": "ar"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "أمل"}, {"type": "text", "text": "42"}]}
        ],
    }


def test_named_placeholders_are_sent_with_their_parameter_name():
    components = [{"type": "BODY", "text": "Hi {{first_name}}, order {{order_id}} is ready."}]
    parameters = [
        {"component": "body", "name": "first_name", "type": "text"},
        {"component": "body", "name": "order_id", "type": "text"},
    ]
    rendered = _render({"order_id": "7", "first_name": "Ada"}, components, parameters)
    assert rendered["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ada", "parameter_name": "first_name"},
                {"type": "text", "text": "7", "parameter_name": "order_id"},
            ],
        }
    ]


def test_a_template_without_placeholders_renders_without_components():
    components = [{"type": "BODY", "text": "Your order is on its way."}]
    assert _render({}, components, []) == {"name": "order_receipt", "language": {"code": "en_US"}}


def test_a_media_header_takes_a_link_or_an_id():
    components = [{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Your invoice."}]
    parameters = [{"component": "header", "name": "invoice", "type": "document"}]
    link = {"link": "https://shop.example/i/1.pdf", "filename": "invoice.pdf"}
    assert _render({"invoice": link}, components, parameters)["components"] == [
        {"type": "header", "parameters": [{"type": "document", "document": link}]}
    ]
    with pytest.raises(TemplateRenderError, match="https://"):
        _render({"invoice": {"link": "http://shop.example/i/1.pdf"}}, components, parameters)


def test_missing_parameter_is_refused_by_name():
    values = {k: v for k, v in RECEIPT_VALUES.items() if k != "total"}
    with pytest.raises(TemplateRenderError, match=r"missing parameter 'total' \(body \{\{2\}\}, currency\)") as info:
        _render(values)
    assert info.value.param == "total"


def test_extra_parameter_is_refused_by_name():
    with pytest.raises(TemplateRenderError, match="unexpected parameter.*'coupon'") as info:
        _render({**RECEIPT_VALUES, "coupon": "X"})
    assert info.value.param == "coupon"


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("customer", 42, "expected a string, got int"),
        ("customer", "   ", "must not be empty"),
        ("customer", "line one\nline two", "newlines"),
        ("customer", "a\tb", "tabs"),
        ("customer", "a     b", "more than four spaces"),
        ("customer", "x" * 1025, "Meta allows 1024"),
        ("receipt_no", "R" * 61, "Meta allows 60"),
        ("count", "3", "expected a number, got str"),
        ("count", True, "expected a number, got bool"),
        ("count", float("nan"), "finite"),
        ("total", 125.5, "expected {amount_1000"),
        ("total", {"amount_1000": 125.5, "code": "AED"}, "whole number"),
        ("total", {"amount_1000": 1000, "code": "aed"}, "ISO 4217"),
        ("total", {"amount_1000": 1000, "code": "AED", "rate": 1}, "expected {amount_1000"),
        ("paid_at", "next tuesday", "ISO 8601"),
        ("paid_at", 1700000000, "expected a date"),
        ("stop_payload", "", "non-empty"),
    ],
)
def test_mistyped_parameter_is_refused_before_any_http_call(key, value, problem):
    with pytest.raises(TemplateRenderError) as info:
        _render({**RECEIPT_VALUES, key: value})
    assert info.value.param == key
    assert f"parameter {key!r}" in str(info.value) and problem in str(info.value)


@pytest.mark.parametrize(
    "value, fallback",
    [
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 9, 5, tzinfo=UTC), "2026-03-01 09:05 UTC"),
        ("2026-03-01", "2026-03-01 00:00"),
        ({"fallback_value": "1 March"}, "1 March"),
    ],
)
def test_date_time_values_become_a_fallback_value(value, fallback):
    rendered = _render({**RECEIPT_VALUES, "paid_at": value})
    parameter = rendered["components"][1]["parameters"][2]
    assert parameter == {"type": "date_time", "date_time": {"fallback_value": fallback}}


def test_numbers_and_currency_keep_exact_values():
    free = {"amount_1000": 0, "code": "USD", "fallback_value": "free"}
    rendered = _render({**RECEIPT_VALUES, "count": Decimal("2.50"), "total": free})
    body = rendered["components"][1]["parameters"]
    assert body[3] == {"type": "text", "text": "2.50"}
    assert body[1]["currency"] == {"fallback_value": "free", "code": "USD", "amount_1000": 0}


def test_the_filled_body_must_stay_within_metas_limit():
    components = [{"type": "BODY", "text": "{{1}} and {{2}}"}]
    parameters = [
        {"component": "body", "position": 1, "name": "a", "type": "text"},
        {"component": "body", "position": 2, "name": "b", "type": "text"},
    ]
    with pytest.raises(TemplateRenderError, match="filled body is 1030 characters"):
        _render({"a": "x" * 1000, "b": "y" * 25}, components, parameters)


def test_declared_parameters_must_match_the_placeholders():
    specs = specs_parse([{"component": "body", "position": 1, "type": "text"}])
    with pytest.raises(TemplateDefinitionError, match=r"placeholders without a declared parameter: body \{\{2\}\}"):
        specs_check(specs, [{"type": "BODY", "text": "{{1}} {{2}}"}])
    with pytest.raises(TemplateDefinitionError, match="parameters without a placeholder: body.1"):
        specs_check(specs, [{"type": "BODY", "text": "no placeholders"}])
    with pytest.raises(TemplateDefinitionError, match="unknown type"):
        specs_parse([{"component": "body", "position": 1, "type": "emoji"}])
    with pytest.raises(TemplateDefinitionError, match="share the key"):
        specs_parse(
            [
                {"component": "body", "position": 1, "name": "a"},
                {"component": "body", "position": 2, "name": "a"},
            ]
        )


def test_inferred_parameters_are_text_and_keep_earlier_declarations():
    previous = specs_parse([{"component": "body", "position": 2, "name": "total", "type": "currency"}])
    inferred = specs_infer(RECEIPT[:2], previous)
    assert [spec.as_dict() for spec in inferred] == [
        {"component": "header", "type": "text", "position": 1},
        {"component": "body", "type": "text", "position": 1},
        {"component": "body", "type": "currency", "position": 2, "name": "total"},
        {"component": "body", "type": "text", "position": 3},
        {"component": "body", "type": "text", "position": 4},
    ]
    assert [spec.key for spec in inferred] == ["header.1", "body.1", "total", "body.3", "body.4"]
