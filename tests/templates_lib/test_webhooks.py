"""Meta's template webhooks, from the published fixtures, through the real ingest path:
parse_delivery on a stored Delivery, then delivery_process running our handlers."""

from datetime import UTC, datetime, timedelta

import pytest

from templates_lib import handlers, services
from templates_lib.models import (
    ChangeCause,
    TemplateCategory,
    TemplateQuality,
    TemplateStatus,
    TemplateStatusChange,
)
from tests.channels.factories import BusinessAccountFactory
from tests.ingest.factories import DeliveryFactory
from tests.support.payloads import WEBHOOKS
from tests.templates_lib.factories import TemplateFactory
from waco.cloud_api.webhooks import parse_delivery
from waco.ingest import registry
from waco.ingest.models import DeliveryStatus, EventOutcome, InboxEvent
from waco.ingest.services import delivery_process

pytestmark = pytest.mark.django_db

WABA_ID = "102290129340398"
ORDER_CONFIRMATION_ID = "1689556908129832"
APPROVED_AT = datetime.fromtimestamp(1751247548, UTC)
DISABLED_AT = datetime.fromtimestamp(1739321024, UTC)


def fixture(name: str) -> str:
    return (WEBHOOKS / f"{name}.json").read_text()


def deliver(name: str, expected_kind: str | None = None):
    """Store the fixture as Meta's delivery and process it as a worker would."""
    body = fixture(name)
    if expected_kind:
        assert {event.kind for event in parse_delivery(body)} == {expected_kind}
    delivery = DeliveryFactory(body=body)
    result = delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE, delivery.last_error
    return result


@pytest.fixture
def account():
    return BusinessAccountFactory(waba_id=WABA_ID)


@pytest.fixture
def submitted(account):
    return TemplateFactory(
        business_account=account,
        name="order_confirmation",
        language="en_US",
        status=TemplateStatus.SUBMITTED,
        meta_template_id=ORDER_CONFIRMATION_ID,
    )


class FakeGraph:
    """Meta's template list, as GraphClient.list_templates answers it."""

    def __init__(self, *items):
        self.items = list(items)

    def list_templates(self, waba_id, **kwargs):
        return self.items


def listed(template, status, **extra):
    return {
        "id": template.meta_template_id,
        "name": template.name,
        "language": template.language,
        "status": status,
        "category": template.category,
        "components": template.current_version.components,
        **extra,
    }


def test_our_handlers_are_registered_as_account_level():
    for kind in ("template_status", "template_quality", "template_category", "template_components"):
        [handler] = [h for h in registry.handlers_for(kind) if h.func.__module__ == handlers.__name__]
        assert handler.order == registry.HandlerOrder.TEMPLATES
        assert not handler.needs_phone_number


def test_pywa__template_status_update__approved(submitted):
    result = deliver("pywa__template_status_update__approved", "template_status")

    assert result.applied == 1
    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.APPROVED
    assert submitted.status_at == APPROVED_AT
    assert submitted.category == TemplateCategory.UTILITY
    change = TemplateStatusChange.objects.get(template=submitted)
    assert (change.from_state, change.to_state, change.cause, change.detail) == ("submitted", "approved", "webhook", "")
    assert change.created_at == APPROVED_AT


def test_wa_cloud_api_types__template_approved_names_the_language_with_a_hyphen(submitted):
    deliver("wa-cloud-api-types__template_approved", "template_status")
    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.APPROVED


def test_a_template_whose_submit_answer_is_still_out_is_found_by_name_and_takes_metas_id(account):
    draft = TemplateFactory(
        business_account=account,
        name="order_confirmation",
        language="en_US",
        status=TemplateStatus.DRAFT,
        meta_template_id="",
    )
    deliver("pywa__template_status_update__approved")
    draft.refresh_from_db()
    assert draft.status == TemplateStatus.APPROVED
    assert draft.meta_template_id == ORDER_CONFIRMATION_ID


def test_pywa__template_status_update__rejected_keeps_metas_reason_and_explanation(account):
    template = TemplateFactory(
        business_account=account,
        name="abandoned_cart",
        language="en",
        category=TemplateCategory.MARKETING,
        status=TemplateStatus.SUBMITTED,
        meta_template_id="1689556908129835",
    )
    deliver("pywa__template_status_update__rejected", "template_status")
    template.refresh_from_db()
    assert template.status == TemplateStatus.REJECTED
    assert template.rejection_reason.startswith("INVALID_FORMAT: Your template has parameters placed next")
    assert TemplateStatusChange.objects.get(template=template).detail == template.rejection_reason


def test_wa_cloud_api_types__template_rejected(account):
    template = TemplateFactory(
        business_account=account,
        name="promotional_message",
        status=TemplateStatus.SUBMITTED,
        meta_template_id=ORDER_CONFIRMATION_ID,
    )
    deliver("wa-cloud-api-types__template_rejected")
    template.refresh_from_db()
    assert (template.status, template.rejection_reason) == (TemplateStatus.REJECTED, "PROMOTIONAL")


def test_wa_cloud_api_types__template_disabled(submitted):
    services.template_apply_status(
        template=submitted, status="approved", at=DISABLED_AT - timedelta(days=30), cause=ChangeCause.SYNC
    )
    deliver("wa-cloud-api-types__template_disabled", "template_status")
    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.DISABLED
    assert TemplateStatusChange.objects.filter(template=submitted).last().detail == "ABUSIVE_CONTENT"


def test_a_disable_older_than_the_approval_arriving_late_changes_nothing(submitted):
    # Both fixtures are about template 1689556908129832; the disable is months older.
    deliver("pywa__template_status_update__approved")
    deliver("wa-cloud-api-types__template_disabled")
    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.APPROVED and submitted.status_at == APPROVED_AT
    assert TemplateStatusChange.objects.filter(template=submitted).count() == 1


def test_metas_word_on_the_rejected_copy_a_revision_replaces_is_ignored(submitted):
    services.template_apply_status(template=submitted, status="rejected", at=APPROVED_AT, cause=ChangeCause.WEBHOOK)
    services.template_revise(template=submitted, components=[{"type": "BODY", "text": "Thanks {{1}}, order {{2}}."}])

    deliver("pywa__template_status_update__approved")  # about the old copy, still at Meta until the next submit

    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.DRAFT and submitted.current_version.number == 2


def test_a_redelivered_status_is_applied_once(submitted):
    first, second = deliver("pywa__template_status_update__approved"), deliver("pywa__template_status_update__approved")
    assert (first.applied, second.duplicates) == (1, 1)
    assert TemplateStatusChange.objects.filter(template=submitted).count() == 1


@pytest.mark.parametrize(
    "name", ["pywa__template_quality_update__yellow", "wa-cloud-api-types__template_quality_update"]
)
def test_template_quality_update_fixtures_record_yellow(account, name):
    template = TemplateFactory(business_account=account, name="welcome_template", meta_template_id="806312974732579")
    deliver(name, "template_quality")
    template.refresh_from_db()
    assert template.quality == TemplateQuality.YELLOW
    assert template.quality_at == datetime.fromtimestamp(1674864290, UTC)


def test_pywa__template_category_update__marketing():
    account = BusinessAccountFactory(waba_id="57438975935")
    template = TemplateFactory(
        business_account=account, name="my_message_template", language="he", meta_template_id="12345678"
    )
    deliver("pywa__template_category_update__marketing", "template_category")
    template.refresh_from_db()
    assert (template.category, template.category_pending) == (TemplateCategory.MARKETING, "")


def test_wa_cloud_api_types__template_category_impending_then_completed(account):
    template = TemplateFactory(business_account=account, name="welcome_template", meta_template_id="278077987957091")

    deliver("wa-cloud-api-types__template_category_impending", "template_category")
    template.refresh_from_db()
    assert (template.category, template.category_pending) == (TemplateCategory.UTILITY, TemplateCategory.MARKETING)

    deliver("wa-cloud-api-types__template_category_completed", "template_category")
    template.refresh_from_db()
    assert (template.category, template.category_pending) == (TemplateCategory.MARKETING, "")


def test_wa_cloud_api_types__template_components_update_makes_a_new_version(account):
    template = TemplateFactory(
        business_account=account,
        name="order_confirmation",
        meta_template_id="1315502779341834",
        components=[{"type": "BODY", "text": "Thanks {{1}}, order {{2}}."}],
    )
    deliver("wa-cloud-api-types__template_components_update", "template_components")

    template.refresh_from_db()
    version = template.current_version
    assert (version.number, version.source, version.meta_template_id) == (2, "webhook", "1315502779341834")
    assert version.components == [
        {"type": "HEADER", "format": "TEXT", "text": "Your order is confirmed!"},
        {
            "type": "BODY",
            "text": "Thank you for your order, {{1}}! Your order number is {{2}}. If you have any questions, "
            "contact support using the buttons below. Thanks again!",
        },
        {"type": "FOOTER", "text": "Lucky Shrub: the Succulent Specialists!"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "PHONE_NUMBER", "text": "Phone support", "phone_number": "+15550783881"},
                {"type": "URL", "text": "Email support", "url": "https://www.luckyshrub.com/support"},
            ],
        },
    ]
    assert [p.get("name") for p in version.parameters] == ["customer", "order_id"]
    rendered = services.template_render(template=template, params={"customer": "Ada", "order_id": "7"})
    assert rendered["components"][0]["parameters"][1] == {"type": "text", "text": "7"}


def test_pywa__template_components_update__element():
    account = BusinessAccountFactory(waba_id="57438975935")
    template = TemplateFactory(
        business_account=account,
        name="my_message_template",
        language="he",
        meta_template_id="12345678",
        components=[{"type": "BODY", "text": "Hi {{1}}!"}],
        parameters=[{"component": "body", "position": 1, "name": "customer", "type": "text"}],
    )
    deliver("pywa__template_components_update__element", "template_components")
    template.refresh_from_db()
    assert template.current_version.components == [{"type": "BODY", "text": "Hi {{1}}! Welcome to our service."}]
    assert template.current_version.parameters == [
        {"component": "body", "type": "text", "position": 1, "name": "customer"}
    ]


def test_an_unknown_template_of_a_known_account_asks_for_a_sync(
    account, monkeypatch, django_capture_on_commit_callbacks
):
    asked = []
    monkeypatch.setattr(handlers.sync_templates_for_account, "delay", asked.append)
    with django_capture_on_commit_callbacks(execute=True):
        result = deliver("pywa__template_status_update__approved")
    assert result.applied == 1 and asked == [account.pk]


def test_an_event_for_an_account_we_do_not_know_is_recorded_and_ignored():
    result = deliver("pywa__template_status_update__approved")
    assert result.applied == 1
    assert InboxEvent.objects.get().outcome == EventOutcome.APPLIED


def test_the_webhook_first_then_a_newer_sync_wins(submitted):
    deliver("pywa__template_status_update__approved")
    later = APPROVED_AT + timedelta(hours=5)

    services.templates_sync(
        business_account=submitted.business_account,
        now=later,
        client=FakeGraph(listed(submitted, "PAUSED", quality_score={"score": "RED"})),
    )

    submitted.refresh_from_db()
    assert (submitted.status, submitted.quality, submitted.status_at) == (TemplateStatus.PAUSED, "RED", later)
    assert [c.cause for c in TemplateStatusChange.objects.filter(template=submitted)] == ["webhook", "sync"]


def test_a_sync_first_then_an_older_webhook_arriving_late_changes_nothing(submitted):
    later = APPROVED_AT + timedelta(minutes=1)
    services.templates_sync(
        business_account=submitted.business_account, now=later, client=FakeGraph(listed(submitted, "PAUSED"))
    )

    deliver("pywa__template_status_update__approved")

    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.PAUSED and submitted.status_at == later
    assert [c.cause for c in TemplateStatusChange.objects.filter(template=submitted)] == ["sync"]


def test_a_sync_first_then_a_newer_webhook_wins(submitted):
    earlier = APPROVED_AT - timedelta(minutes=1)
    services.templates_sync(
        business_account=submitted.business_account, now=earlier, client=FakeGraph(listed(submitted, "PENDING"))
    )
    deliver("pywa__template_status_update__approved")
    submitted.refresh_from_db()
    assert submitted.status == TemplateStatus.APPROVED and submitted.status_at == APPROVED_AT
