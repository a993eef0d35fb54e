"""GET /templates: what a storefront can send, with the parameters' keys and Meta's examples."""

import pytest

from templates_lib.models import TemplateQuality, TemplateStatus
from tests.channels.factories import PhoneNumberFactory
from tests.support.messages import message_shop
from tests.templates_lib.factories import TemplateFactory

pytestmark = pytest.mark.django_db


def test_a_template_shows_its_status_quality_category_and_parameters_with_examples(api_client_factory):
    shop = message_shop()
    positional = TemplateFactory(
        business_account=shop.account,
        name="receipt",
        quality=TemplateQuality.GREEN,
        components=[{"type": "BODY", "text": "Hi {{1}}, order {{2}}.", "example": {"body_text": [["Amal", "W7"]]}}],
    )
    client = api_client_factory(scopes=["templates:read"])

    page = client.get("/api/v1/templates").json()

    by_name = {t["name"]: t for t in page["results"]}
    assert set(by_name) == {"order_shipped", "receipt"}
    shipped = by_name["order_shipped"]
    assert shipped["account"] == shop.account.waba_id
    assert (shipped["status"], shipped["category"], shipped["language"]) == ("approved", "UTILITY", "en_US")
    assert shipped["parameters"] == [
        {"key": "customer", "component": "body", "type": "text", "position": None, "example": "Amal"},
        {"key": "order_id", "component": "body", "type": "text", "position": None, "example": "W7K3Q9P2"},
    ]
    receipt = by_name["receipt"]
    assert receipt["quality"] == "GREEN" and receipt["version"] == 1 and receipt["id"] == positional.pk
    assert [(p["key"], p["position"], p["example"]) for p in receipt["parameters"]] == [
        ("customer", 1, "Amal"),
        ("order_id", 2, "W7"),
    ]


def test_templates_of_accounts_the_key_may_not_see_are_not_listed(api_client_factory):
    mine = message_shop()
    message_shop(number=PhoneNumberFactory(), customer=mine.customer)
    client = api_client_factory(scopes=["templates:read"], accounts=[mine.account])

    page = client.get("/api/v1/templates").json()

    assert [t["account"] for t in page["results"]] == [mine.account.waba_id]
    assert (
        api_client_factory().get("/api/v1/templates", {"account": mine.account.waba_id}).json()["results"]
        == (page["results"])
    )


def test_filters_and_cursor_pages(api_client_factory):
    shop = message_shop()
    for n in range(3):
        TemplateFactory(business_account=shop.account, name=f"promo_{n}", status=TemplateStatus.PAUSED)
    client = api_client_factory(scopes=["templates:read"])

    first = client.get("/api/v1/templates", {"status": "paused", "limit": 2}).json()
    second = client.get(first["next"]).json()

    names = [t["name"] for t in first["results"] + second["results"]]
    assert names == ["promo_0", "promo_1", "promo_2"]
    assert second["next"] is None


def test_reading_templates_needs_templates_read(api_client_factory):
    client = api_client_factory(scopes=["messages:send", "threads:read"])
    assert client.get("/api/v1/templates").status_code == 403
