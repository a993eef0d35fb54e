"""The review lifecycle: transitions, their history, newest wins, drafts and versions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from templates_lib import services, signals
from templates_lib.models import (
    ChangeCause,
    TemplateCategory,
    TemplateQuality,
    TemplateStatus,
    TemplateStatusChange,
)
from tests.channels.factories import BusinessAccountFactory
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def history(template) -> list[tuple]:
    return [
        (c.from_state, c.to_state, c.cause, c.detail)
        for c in TemplateStatusChange.objects.filter(template=template).order_by("created_at", "id")
    ]


@pytest.fixture
def captured():
    """Every template_status_changed signal, as its kwargs."""
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    signals.template_status_changed.connect(receiver)
    yield seen
    signals.template_status_changed.disconnect(receiver)


def test_meta_walks_a_template_through_its_lifecycle_and_every_change_is_recorded():
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    apply = services.template_apply_status
    assert apply(template=template, status="approved", at=at(1), cause=ChangeCause.WEBHOOK)
    assert apply(template=template, status="paused", reason="LOW_QUALITY", at=at(2), cause=ChangeCause.WEBHOOK)
    assert apply(template=template, status="approved", at=at(200), cause=ChangeCause.SYNC)
    assert apply(template=template, status="disabled", reason="ABUSIVE_CONTENT", at=at(300), cause=ChangeCause.WEBHOOK)

    assert template.status == TemplateStatus.DISABLED
    assert template.status_at == at(300)
    assert history(template) == [
        ("submitted", "approved", "webhook", ""),
        ("approved", "paused", "webhook", "LOW_QUALITY"),
        ("paused", "approved", "sync", ""),
        ("approved", "disabled", "webhook", "ABUSIVE_CONTENT"),
    ]
    change = TemplateStatusChange.objects.filter(template=template).last()
    assert change.created_at == at(300) and change.version == template.current_version


def test_an_older_status_arriving_late_changes_nothing():
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    services.template_apply_status(template=template, status="paused", at=at(10), cause=ChangeCause.SYNC)

    changed = services.template_apply_status(template=template, status="approved", at=at(5), cause=ChangeCause.WEBHOOK)

    assert not changed
    assert template.status == TemplateStatus.PAUSED and template.status_at == at(10)
    assert history(template) == [("submitted", "paused", "sync", "")]


def test_the_same_status_again_is_a_no_op_that_still_makes_older_words_stale():
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    services.template_apply_status(template=template, status="approved", at=at(1), cause=ChangeCause.WEBHOOK)
    assert not services.template_apply_status(template=template, status="approved", at=at(9), cause=ChangeCause.SYNC)
    assert template.status_at == at(9)

    # Paused at minute 5, but the sync at minute 9 saw it approved: the pause is over.
    assert not services.template_apply_status(template=template, status="paused", at=at(5), cause=ChangeCause.WEBHOOK)
    assert template.status == TemplateStatus.APPROVED
    assert len(history(template)) == 1


def test_an_event_of_the_same_second_as_our_submit_is_not_taken_for_an_older_one():
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    services.template_apply_status(
        template=template,
        status="submitted",
        at=T0 + timedelta(seconds=7, microseconds=900_000),
        cause=ChangeCause.SUBMIT,
    )
    # Meta's webhook time has whole seconds only.
    assert services.template_apply_status(
        template=template, status="approved", at=T0 + timedelta(seconds=7), cause=ChangeCause.WEBHOOK
    )


def test_meta_cannot_move_a_template_back_to_draft():
    template = TemplateFactory()
    with pytest.raises(services.TemplateStateError):
        services.template_apply_status(template=template, status="draft", at=at(1), cause=ChangeCause.WEBHOOK)


def test_the_machine_refuses_a_transition_from_the_wrong_state():
    template = TemplateFactory(status=TemplateStatus.APPROVED)
    with pytest.raises(TransitionNotAllowed):
        template.submit()
    with pytest.raises(TransitionNotAllowed):
        template.revise()


def test_a_status_change_is_signalled_with_the_purposes_it_leaves_without_a_template(captured):
    account = BusinessAccountFactory()
    first = TemplateFactory(business_account=account)
    second = TemplateFactory(business_account=account)
    order_update = PurposeFactory(key="order_update")
    receipt = PurposeFactory(key="order_receipt")
    PurposeTemplateFactory(purpose=order_update, template=first, position=0)
    PurposeTemplateFactory(purpose=order_update, template=second, position=1)
    PurposeTemplateFactory(purpose=receipt, template=first, position=0)

    services.template_apply_status(template=first, status="paused", reason="LOW_QUALITY", at=at(1), cause="webhook")

    [sent] = captured
    assert (sent["template"], sent["old"], sent["new"], sent["reason"]) == (first, "approved", "paused", "LOW_QUALITY")
    assert sent["cause"] == "webhook" and sent["at"] == at(1)
    # order_update still has `second`; order_receipt has nothing left.
    assert sent["unserved_purposes"] == ["order_receipt"]


def test_submitting_a_draft_leaves_no_purpose_unserved_that_was_served(captured):
    account = BusinessAccountFactory()
    draft = TemplateFactory(business_account=account, status="draft")
    PurposeTemplateFactory(purpose=PurposeFactory(key="order_update"), template=draft, position=0)

    services.template_apply_status(template=draft, status="submitted", at=at(1), cause="staff")

    [sent] = captured
    assert (sent["old"], sent["new"], sent["unserved_purposes"]) == ("draft", "submitted", [])


def test_no_signal_when_nothing_changes(captured):
    template = TemplateFactory()
    services.template_apply_status(template=template, status="approved", at=at(1), cause="sync")
    assert captured == []


def test_a_draft_gets_its_first_version_and_infers_text_parameters():
    account = BusinessAccountFactory()
    template = services.template_create_draft(
        business_account=account,
        name="payment_due",
        language="en_US",
        category=TemplateCategory.UTILITY,
        components=[{"type": "BODY", "text": "Order {{1}}: please pay by {{2}}."}],
    )
    assert template.status == TemplateStatus.DRAFT
    version = template.current_version
    assert version.number == 1 and version.source == ChangeCause.STAFF and version.meta_template_id == ""
    assert version.parameters == [
        {"component": "body", "type": "text", "position": 1},
        {"component": "body", "type": "text", "position": 2},
    ]


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"name": "Payment Due"}, ValidationError),
        ({"language": "english"}, ValidationError),
        ({"category": "PROMO"}, ValidationError),
        ({"parameters": [{"component": "body", "position": 3, "type": "text"}]}, services.TemplateDefinitionError),
        ({"components": [{"type": "HEADER", "text": "no body"}]}, services.TemplateDefinitionError),
    ],
)
def test_a_bad_draft_is_refused_and_nothing_is_saved(changes, error):
    arguments = {
        "business_account": BusinessAccountFactory(),
        "name": "payment_due",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Pay {{1}}."}],
        **changes,
    }
    with pytest.raises(error):
        services.template_create_draft(**arguments)
    assert not TemplateStatusChange.objects.exists()
    from templates_lib.models import Template

    assert not Template.objects.exists()


def test_revising_a_rejected_template_makes_a_new_version_and_a_draft_again():
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    services.template_apply_status(
        template=template, status="rejected", reason="INVALID_FORMAT", at=at(1), cause=ChangeCause.WEBHOOK
    )
    assert template.rejection_reason == "INVALID_FORMAT"

    version = services.template_revise(
        template=template, components=[{"type": "BODY", "text": "Hello {{1}}, order {{2}} is on its way."}]
    )

    assert template.status == TemplateStatus.DRAFT and template.rejection_reason == ""
    assert (version.number, template.current_version) == (2, version)
    # Declared names carry over to placeholders that remain.
    assert [p.get("name") for p in version.parameters] == ["customer", "order_id"]
    assert history(template)[-1] == ("rejected", "draft", "staff", "revised")
    assert template.versions.count() == 2


def test_a_template_meta_holds_live_cannot_be_revised_or_submitted_again():
    template = TemplateFactory(status=TemplateStatus.APPROVED)
    with pytest.raises(services.TemplateStateError, match="only drafts and rejected"):
        services.template_revise(template=template, components=[{"type": "BODY", "text": "new"}])

    class NoHttp:
        def __getattr__(self, name):
            raise AssertionError("no Graph call may be made")

    with pytest.raises(services.TemplateStateError, match="approved: not submitted"):
        services.template_submit(template=template, client=NoHttp())
    assert template.versions.count() == 1


def test_quality_takes_the_newest_rating_and_signals_a_change():
    template = TemplateFactory()
    seen = []
    signals.template_quality_changed.connect(receiver := lambda sender, **kw: seen.append((kw["old"], kw["new"])))
    try:
        assert services.template_apply_quality(template=template, quality="YELLOW", at=at(5), cause="webhook")
        assert not services.template_apply_quality(template=template, quality="RED", at=at(4), cause="webhook")
        assert not services.template_apply_quality(template=template, quality="YELLOW", at=at(6), cause="sync")
    finally:
        signals.template_quality_changed.disconnect(receiver)
    assert template.quality == TemplateQuality.YELLOW and template.quality_at == at(6)
    assert seen == [("UNKNOWN", "YELLOW")]


def test_an_impending_category_is_kept_aside_until_meta_changes_it():
    template = TemplateFactory(category=TemplateCategory.UTILITY)
    services.template_apply_category(template=template, category="MARKETING", at=at(1), cause="webhook", impending=True)
    assert (template.category, template.category_pending) == ("UTILITY", "MARKETING")

    services.template_apply_category(template=template, category="MARKETING", at=at(2), cause="webhook")
    assert (template.category, template.category_pending) == ("MARKETING", "")

    assert not services.template_apply_category(template=template, category="UTILITY", at=at(1), cause="webhook")
    assert template.category == TemplateCategory.MARKETING


def test_new_content_from_meta_is_a_new_version_and_the_same_content_is_not():
    template = TemplateFactory()
    first = template.current_version
    same = [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["a", "b"]]}}]
    assert services.template_apply_components(template=template, components=same, at=at(1), cause="sync") is None

    edited = [{"type": "BODY", "text": "Hi {{1}}! Order {{2}} left on {{3}}."}]
    version = services.template_apply_components(template=template, components=edited, at=at(2), cause="webhook")

    assert version.number == 2 and version.source == "webhook"
    assert version.meta_template_id == first.meta_template_id
    assert version.parameters == [
        {"component": "body", "type": "text", "position": 1, "name": "customer"},
        {"component": "body", "type": "text", "position": 2, "name": "order_id"},
        {"component": "body", "type": "text", "position": 3},
    ]
    older = [{"type": "BODY", "text": "Something older"}]
    assert services.template_apply_components(template=template, components=older, at=at(1), cause="sync") is None
    assert template.current_version == version
