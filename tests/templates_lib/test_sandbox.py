"""Submit and sync against the sandbox Meta over real HTTP, with its review and webhooks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from templates_lib import services, signals, tasks
from templates_lib.models import (
    ChangeCause,
    Template,
    TemplateStatus,
    TemplateStatusChange,
    TemplateSyncRun,
)
from tests.support.sandbox_shop import CUSTOMER, sandbox_shop_wire
from tests.templates_lib.factories import BODY
from waco.cloud_api.errors import AuthError, InvalidRequestError
from waco.sandbox import services as sandbox

PARAMETERS = [
    {"component": "body", "position": 1, "name": "customer", "type": "text"},
    {"component": "body", "position": 2, "name": "order_id", "type": "text"},
]


@pytest.fixture
def meta(transactional_db, settings, live_server):
    return sandbox_shop_wire(settings, live_server)


def draft(meta, name="order_shipped", **kwargs):
    return services.template_create_draft(
        business_account=meta.account,
        name=name,
        language="en_US",
        category="UTILITY",
        components=kwargs.pop("components", BODY),
        parameters=kwargs.pop("parameters", PARAMETERS),
        **kwargs,
    )


def history(template):
    return [(c.from_state, c.to_state, c.cause) for c in TemplateStatusChange.objects.filter(template=template)]


def test_a_submitted_draft_is_reviewed_by_meta_and_approved_by_its_webhook(meta):
    template = draft(meta)

    services.template_submit(template=template)

    assert template.status == TemplateStatus.SUBMITTED
    listed = meta.listed()["order_shipped"]
    assert template.meta_template_id == listed["id"]
    version = template.current_version
    assert version.meta_template_id == listed["id"] and version.submitted_at is not None
    assert listed["components"] == BODY and listed["category"] == "UTILITY"

    meta.deliver_webhooks()

    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED
    assert history(template) == [("draft", "submitted", "submit"), ("submitted", "approved", "webhook")]


def test_a_rendered_approved_template_is_accepted_by_meta(meta):
    template = draft(meta)
    services.template_submit(template=template)
    meta.deliver_webhooks()
    template.refresh_from_db()

    rendered = services.template_render(template=template, params={"customer": "Amal", "order_id": "A-42"})
    sent = meta.graph.send_message(meta.phone_number_id, {"to": CUSTOMER, "type": "template", "template": rendered})

    assert sent.wamid.startswith("wamid.")
    [body] = sandbox.outbox_list(config=sandbox.config_get(), to=CUSTOMER)
    assert body["template"] == rendered


def test_a_rejection_keeps_metas_reason_and_a_revision_is_resubmitted_under_a_new_id(meta):
    sandbox.config_update(changes={"template_reject_names": ["cart_nudge"]})
    template = draft(meta, name="cart_nudge")
    services.template_submit(template=template)
    meta.deliver_webhooks()
    template.refresh_from_db()
    assert (template.status, template.rejection_reason) == (TemplateStatus.REJECTED, "INVALID_FORMAT")
    rejected_id = template.meta_template_id

    sandbox.config_update(changes={"template_reject_names": []})
    services.template_revise(template=template, components=[{"type": "BODY", "text": "Hi {{1}}, order {{2}} waits."}])
    services.template_submit(template=template)
    meta.deliver_webhooks()

    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED
    assert template.meta_template_id not in ("", rejected_id)
    assert meta.listed()["cart_nudge"]["id"] == template.meta_template_id  # the rejected copy is gone
    assert [(v.number, v.meta_template_id) for v in template.versions.order_by("number")] == [
        (1, rejected_id),
        (2, template.meta_template_id),
    ]
    assert history(template) == [
        ("draft", "submitted", "submit"),
        ("submitted", "rejected", "webhook"),
        ("rejected", "draft", "staff"),
        ("draft", "submitted", "submit"),
        ("submitted", "approved", "webhook"),
    ]


def test_a_graph_error_on_submit_is_recorded_and_the_template_stays_a_draft(meta):
    meta.create_elsewhere("order_shipped")  # Meta already holds the name in this language
    template = draft(meta)

    with pytest.raises(services.TemplateSubmitError) as info:
        services.template_submit(template=template)

    assert isinstance(info.value.graph_error, InvalidRequestError) and info.value.graph_error.code == 100
    template.refresh_from_db()
    assert template.status == TemplateStatus.DRAFT and template.submit_started_at is None
    assert template.last_error.startswith("submit: [request] 100/") and template.last_error_at
    assert template.meta_template_id == "" and template.current_version.meta_template_id == ""
    assert not TemplateStatusChange.objects.exists()

    # The sync adopts what Meta holds under that name.
    services.templates_sync(business_account=meta.account, now=timezone.now())
    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED
    assert template.meta_template_id == meta.listed()["order_shipped"]["id"]


def test_a_bad_token_fails_the_submit_with_an_auth_error(meta):
    template = draft(meta)
    meta.account.access_token = "expired-token"
    meta.account.save()
    template.refresh_from_db()

    with pytest.raises(services.TemplateSubmitError) as info:
        services.template_submit(template=template)

    assert isinstance(info.value.graph_error, AuthError)
    assert Template.objects.get().status == TemplateStatus.DRAFT
    assert meta.listed() == {}


def test_a_sync_creates_the_templates_made_at_meta_with_their_status(meta):
    meta.create_elsewhere("welcome_back", category="MARKETING")
    meta.create_elsewhere("reject_this_one")

    run = services.templates_sync(business_account=meta.account, now=timezone.now())

    assert (run.ok, run.listed, run.created, run.changed) == (True, 2, 2, 0)
    welcome = Template.objects.get(name="welcome_back")
    rejected = Template.objects.get(name="reject_this_one")
    assert (welcome.status, welcome.category) == (TemplateStatus.APPROVED, "MARKETING")
    assert (rejected.status, rejected.rejection_reason) == (TemplateStatus.REJECTED, "INVALID_FORMAT")
    version = welcome.current_version
    assert (version.number, version.source, version.components) == (1, ChangeCause.SYNC, BODY)
    assert version.meta_template_id == welcome.meta_template_id
    assert [p["position"] for p in version.parameters] == [1, 2]
    assert history(welcome) == [("draft", "approved", "sync")]


def test_a_sync_follows_a_pause_and_its_end_and_archives_what_meta_deleted(meta):
    meta.create_elsewhere("order_ready")
    meta.create_elsewhere("old_promo", category="MARKETING")
    services.templates_sync(business_account=meta.account, now=timezone.now())
    seen = []
    signals.template_status_changed.connect(receiver := lambda sender, **kw: seen.append((kw["old"], kw["new"])))
    try:
        meta.set_status("order_ready", "PAUSED", reason="LOW_QUALITY")
        services.templates_sync(business_account=meta.account, now=timezone.now() + timedelta(seconds=1))
        assert Template.objects.get(name="order_ready").status == TemplateStatus.PAUSED

        meta.set_status("order_ready", "APPROVED")
        meta.graph.delete_template(meta.account.waba_id, "old_promo")
        run = services.templates_sync(business_account=meta.account, now=timezone.now() + timedelta(seconds=2))
    finally:
        signals.template_status_changed.disconnect(receiver)

    assert Template.objects.get(name="order_ready").status == TemplateStatus.APPROVED
    gone = Template.objects.get(name="old_promo")
    assert gone.status == TemplateStatus.ARCHIVED
    assert TemplateStatusChange.objects.filter(template=gone).last().detail == "no longer listed by Meta (deleted)"
    assert run.changed == 2
    assert seen == [("approved", "paused"), ("paused", "approved"), ("approved", "archived")]


def test_whichever_of_webhook_and_sync_comes_first_the_newest_word_wins(meta):
    template = draft(meta)
    services.template_submit(template=template)
    meta.deliver_webhooks()
    meta.set_status("order_shipped", "PAUSED", reason="LOW_QUALITY")
    meta.deliver_webhooks()  # the pause webhook, dated now
    template.refresh_from_db()
    assert template.status == TemplateStatus.PAUSED
    paused_at = template.status_at

    # Meta ends the pause; a sync that read the list before the pause (older) changes nothing.
    meta.set_status("order_shipped", "APPROVED")
    services.templates_sync(business_account=meta.account, now=paused_at - timedelta(minutes=5))
    template.refresh_from_db()
    assert template.status == TemplateStatus.PAUSED

    # A newer sync sees the approval before its webhook arrives; the webhook then changes nothing.
    services.templates_sync(business_account=meta.account, now=paused_at + timedelta(minutes=1))
    meta.deliver_webhooks()
    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED
    assert [c[2] for c in history(template)] == ["submit", "webhook", "webhook", "sync"]


def test_one_item_that_fails_does_not_hold_back_the_rest_of_the_list(meta, monkeypatch):
    meta.create_elsewhere("order_ready")
    meta.create_elsewhere("order_broken")
    real_sync_item = services.sync_item

    def sync_item(*, business_account, item, now):
        if item["name"] == "order_broken":
            raise ValueError("a component Waco cannot read")
        return real_sync_item(business_account=business_account, item=item, now=now)

    monkeypatch.setattr(services, "sync_item", sync_item)
    run = services.templates_sync(business_account=meta.account, now=timezone.now())

    assert (run.ok, run.listed, run.created) == (False, 2, 1)
    assert run.error == "'order_broken': ValueError: a component Waco cannot read"
    assert list(Template.objects.values_list("name", flat=True)) == ["order_ready"]


def test_the_sync_task_syncs_one_account_and_records_the_run(meta):
    meta.create_elsewhere("order_ready")
    tasks.sync_templates_for_account(meta.account.pk)
    run = TemplateSyncRun.objects.get()
    assert run.ok and run.created == 1 and run.finished_at is not None


def test_a_failed_sync_is_recorded_on_its_run(meta):
    meta.account.access_token = "expired-token"
    meta.account.save()
    tasks.sync_templates_for_account(meta.account.pk)  # an auth error is not retried
    run = TemplateSyncRun.objects.get()
    assert not run.ok and "[auth] 190" in run.error
