"""/api/v1/campaigns: create (checked by campaign_create), list and read with the rollup's totals, the
status changes through campaign_transition with cause `api`, the recipients in cursor pages, scopes,
other accounts' keys and the Idempotency-Key."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Audience, Campaign, CampaignChange, CampaignStatus, RecipientStatus, SkipReason
from campaigns.outcomes import campaign_totals_refresh
from templates_lib.models import TemplateCategory, TemplateStatus
from tests.campaigns.factories import PARAMS, CampaignFactory, CampaignRecipientFactory
from tests.channels.factories import PhoneNumberFactory
from tests.checkout.factories import OrderFactory
from tests.contacts.factories import ContactFactory
from tests.templates_lib.factories import TemplateFactory

pytestmark = pytest.mark.django_db
S, R = CampaignStatus, RecipientStatus
URL = "/api/v1/campaigns"


@pytest.fixture
def number():
    return PhoneNumberFactory()


@pytest.fixture
def template(number):
    return TemplateFactory(
        business_account=number.business_account, name="winter_sale", category=TemplateCategory.MARKETING
    )


def body(number, **fields) -> dict:
    return {
        "name": "Winter sale",
        "from": number.graph_id,
        "template": "winter_sale",
        "language": "en_US",
        "params": PARAMS,
        "segment": {"tags_any": ["vip"], "countries": ["AE"]},
        **fields,
    }


def problem_pointers(answer, status: int) -> list[str]:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    return [error["pointer"] for error in answer.json().get("errors", [])]


# --- scopes ----------------------------------------------------------------------------------


def test_a_read_key_reads_and_cannot_write_and_a_key_without_campaign_scopes_cannot_read(
    api_client_factory, number, template
):
    campaign = CampaignFactory(phone_number=number, template=template)
    reader = api_client_factory(scopes=["campaigns:read"])

    assert reader.get(URL).status_code == 200
    assert reader.get(f"{URL}/{campaign.pk}").status_code == 200
    assert reader.get(f"{URL}/{campaign.pk}/recipients").status_code == 200
    assert problem_pointers(reader.post(URL, body(number)), 403) == []
    for name in ("start", "pause", "resume", "cancel"):
        assert reader.post(f"{URL}/{campaign.pk}/{name}").status_code == 403, name
    assert Campaign.objects.get() == campaign and campaign.changes.count() == 0

    stranger = api_client_factory(scopes=["orders:read", "messages:send"])
    assert stranger.get(URL).status_code == 403
    assert stranger.get(f"{URL}/{campaign.pk}").status_code == 403
    assert api_client_factory(scopes=["campaigns:write"]).post(URL, body(number)).status_code == 201


# --- create ----------------------------------------------------------------------------------


def test_create_makes_a_draft_with_what_the_body_says(api_client, number, template):
    starts = timezone.now() + timedelta(days=1)
    answer = api_client.post(
        URL,
        body(
            number,
            starts_at=starts.isoformat(),
            ends_at=(starts + timedelta(days=2)).isoformat(),
            quiet_hours={"start": "22:00", "end": "08:30"},
            frequency_cap_hours=48,
        ),
    )

    assert answer.status_code == 201, answer.content
    campaign = Campaign.objects.get()
    shown = answer.json()
    assert shown["id"] == campaign.pk and shown["status"] == "draft"
    assert shown["account"] == number.business_account.waba_id and shown["from"] == number.graph_id
    assert shown["template"] == {"name": "winter_sale", "language": "en_US", "category": "MARKETING"}
    assert shown["quiet_hours"] == {"start": "22:00", "end": "08:30"}
    assert shown["totals"]["counts"] == {} and shown["totals"]["counted_at"] is None
    assert (campaign.template, campaign.phone_number, campaign.params) == (template, number, PARAMS)
    assert campaign.segment == {"tags_any": ["vip"], "countries": ["AE"]}
    assert (campaign.starts_at, campaign.frequency_cap_hours) == (starts, 48)
    assert (campaign.quiet_start.isoformat(), campaign.quiet_end.isoformat()) == ("22:00:00", "08:30:00")
    assert campaign.status == S.DRAFT and (campaign.changes.get().to_state, campaign.changes.get().cause) == (
        S.DRAFT,
        "api",
    )


def test_the_only_number_and_the_only_language_need_not_be_named(api_client, number, template):
    answer = api_client.post(URL, {k: v for k, v in body(number).items() if k not in ("from", "language")})
    assert answer.status_code == 201, answer.content
    assert Campaign.objects.get().phone_number == number


@pytest.mark.parametrize(
    ("fields", "pointers"),
    [
        ({"name": ""}, ["/name"]),
        ({"transactional": "yes"}, ["/transactional"]),
        ({"frequency_cap_hours": 0}, ["/frequency_cap_hours"]),
        ({"starts_at": "2026-12-07T09:00:00"}, ["/starts_at"]),  # no UTC offset: ambiguous
        ({"quiet_hours": {"start": "22:00"}}, ["/quiet_hours/end"]),
        ({"quiet_hours": {"start": "22:00:00+04:00", "end": "24:00"}}, ["/quiet_hours/start", "/quiet_hours/end"]),
        ({"template": "no_such_template"}, ["/template"]),
        ({"params": {"customer": PARAMS["customer"]}}, ["/params"]),  # order_id has no source
        ({"params": {**PARAMS, "colour": {"source": "constant", "value": "red"}}}, ["/params"]),
        ({"segment": {"tags_any": ["vip"], "bought_socks": True}}, ["/segment"]),
        (
            {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
            ["/ends_at"],
        ),
    ],
)
def test_a_wrong_body_is_a_problem_pointing_at_its_field_and_makes_nothing(
    api_client, number, template, fields, pointers
):
    answer = api_client.post(URL, body(number, **fields))
    assert problem_pointers(answer, 422) == pointers
    assert not Campaign.objects.exists()


def test_templates_campaign_create_refuses_are_refused_with_their_reason(api_client, number, template):
    TemplateFactory(business_account=number.business_account, name="receipt", category=TemplateCategory.UTILITY)
    TemplateFactory(business_account=number.business_account, name="paused_promo", status=TemplateStatus.PAUSED)

    utility = api_client.post(URL, body(number, template="receipt"))
    assert problem_pointers(utility, 422) == ["/template"]
    assert "transactional" in utility.json()["errors"][0]["detail"]
    assert problem_pointers(api_client.post(URL, body(number, template="paused_promo")), 422) == ["/template"]
    assert not Campaign.objects.exists()

    notice = api_client.post(URL, body(number, template="receipt", transactional=True))
    assert notice.status_code == 201, notice.content


def test_a_template_in_several_languages_needs_one_named(api_client, number, template):
    TemplateFactory(
        business_account=number.business_account,
        name="winter_sale",
        language="ar",
        category=TemplateCategory.MARKETING,
    )
    unnamed = {k: v for k, v in body(number).items() if k != "language"}
    assert problem_pointers(api_client.post(URL, unnamed), 422) == ["/language"]
    assert api_client.post(URL, {**unnamed, "language": "ar"}).json()["template"]["language"] == "ar"


def test_a_number_of_an_account_the_key_cannot_see_is_not_found(api_client_factory, number, template):
    other = PhoneNumberFactory()
    limited = api_client_factory(accounts=[other.business_account])

    assert problem_pointers(limited.post(URL, body(number)), 404) == []
    # Its own number, with the template of another account: no such template there.
    assert problem_pointers(limited.post(URL, body(other)), 422) == ["/template"]
    assert not Campaign.objects.exists()


def test_an_idempotency_key_answers_a_retry_with_the_first_answer_and_makes_one_campaign(api_client, number, template):
    first = api_client.post(URL, body(number), HTTP_IDEMPOTENCY_KEY="winter-sale-1")
    again = api_client.post(URL, body(number), HTTP_IDEMPOTENCY_KEY="winter-sale-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Campaign.objects.count() == 1
    other_body = api_client.post(URL, body(number, name="Other"), HTTP_IDEMPOTENCY_KEY="winter-sale-1")
    assert other_body.status_code == 422 and Campaign.objects.count() == 1  # the same key, another body


# --- list and read ---------------------------------------------------------------------------


def test_the_list_pages_newest_first_and_filters_by_status(api_client, number, template):
    drafts = [CampaignFactory(phone_number=number, template=template) for _ in range(3)]
    running = CampaignFactory(phone_number=number, template=template, status=S.RUNNING)

    first = api_client.get(URL, {"limit": 2}).json()
    assert [c["id"] for c in first["results"]] == [running.pk, drafts[2].pk]
    rest = api_client.get(first["next"]).json()
    assert [c["id"] for c in rest["results"]] == [drafts[1].pk, drafts[0].pk] and rest["next"] is None

    assert [c["id"] for c in api_client.get(URL, {"status": "running"}).json()["results"]] == [running.pk]
    assert problem_pointers(api_client.get(URL, {"status": "sleeping"}), 422) == ["/status"]


def test_the_totals_are_the_rollups_and_a_read_never_scans_recipients(api_client, number, template):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.RUNNING)
    CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    CampaignRecipientFactory(campaign=campaign, status=R.DELIVERED, cost=Decimal("0.0187"))
    CampaignRecipientFactory(
        campaign=campaign, status=R.ORDERED, cost=Decimal("0.0187"), order=OrderFactory(), revenue_minor=64000
    )
    campaign_totals_refresh(campaign, sync=False)  # beat's count
    CampaignRecipientFactory(campaign=campaign, status=R.SENT)  # after the count: the next one shows it

    with CaptureQueriesContext(connection) as queries:
        answer = api_client.get(f"{URL}/{campaign.pk}")

    assert answer.status_code == 200, answer.content
    totals = answer.json()["totals"]
    assert {status: n for status, n in totals["counts"].items() if n} == {"skipped": 1, "delivered": 1, "ordered": 1}
    assert totals["skipped"] == {"no_consent": 1}
    assert Decimal(totals["cost"]) == Decimal("0.0374") and totals["cost_currency"] == "USD"
    assert totals["revenue_minor"] == 64000 and totals["counted_at"] is not None
    assert not [q["sql"] for q in queries.captured_queries if "campaigns_campaignrecipient" in q["sql"]]


def test_a_campaign_never_counted_is_counted_once_on_its_first_read(api_client, number, template):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.PAUSED, paused_reason="Quality")
    CampaignRecipientFactory(campaign=campaign, status=R.PENDING)

    shown = api_client.get(f"{URL}/{campaign.pk}").json()

    assert shown["status"] == "paused" and shown["paused_reason"] == "Quality"
    assert shown["totals"]["counts"]["pending"] == 1


# --- status changes --------------------------------------------------------------------------


def test_start_checks_the_audience_changes_the_status_with_cause_api_and_rings_a_worker_after_commit(
    api_client, number, template, monkeypatch, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(phone_number=number, template=template)
    rung = []
    monkeypatch.setattr("campaigns.control.campaign_send_ring", rung.append)

    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(f"{URL}/{campaign.pk}/start")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "running"
    assert rung == [campaign.pk]
    change = CampaignChange.objects.get(campaign=campaign)
    assert (change.transition, change.from_state, change.to_state, change.cause) == ("start", "draft", "running", "api")


def test_pause_keeps_the_reason_and_cancel_stops_it_for_good(api_client, number, template):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.RUNNING)

    paused = api_client.post(f"{URL}/{campaign.pk}/pause", {"reason": "Stock ran low"})
    assert paused.status_code == 200, paused.content
    assert (paused.json()["status"], paused.json()["paused_reason"]) == ("paused", "Stock ran low")

    cancelled = api_client.post(f"{URL}/{campaign.pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert list(campaign.changes.order_by("pk").values_list("transition", "cause")) == [
        ("pause", "api"),
        ("cancel", "api"),
    ]
    refused = api_client.post(f"{URL}/{campaign.pk}/start")
    assert problem_pointers(refused, 409) == []
    assert refused.json()["type"] == "urn:waco:problem:transition-refused"
    assert "cancelled cannot start" in refused.json()["detail"]


def test_a_pause_without_a_reason_names_the_key(api_client, number, template):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.RUNNING)
    answer = api_client.post(f"{URL}/{campaign.pk}/pause")
    assert answer.json()["paused_reason"] == f"Paused through the API by {api_client.api_key.name}"


def test_a_transition_the_status_does_not_allow_is_a_409_and_writes_nothing(api_client, number, template):
    campaign = CampaignFactory(phone_number=number, template=template)

    for name in ("pause", "resume"):
        answer = api_client.post(f"{URL}/{campaign.pk}/{name}")
        assert problem_pointers(answer, 409) == [], name
    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT and not campaign.changes.exists()


def test_an_audience_that_cannot_be_expanded_is_not_started(api_client, number, template, monkeypatch):
    campaign = CampaignFactory(phone_number=number, template=template, audience=Audience.CSV)
    rung = []
    monkeypatch.setattr("campaigns.control.campaign_send_ring", rung.append)

    answer = api_client.post(f"{URL}/{campaign.pk}/start")

    assert problem_pointers(answer, 409) == [] and "CSV" in answer.json()["detail"]
    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT and rung == []


def test_resume_sends_again_with_cause_api(
    api_client, number, template, monkeypatch, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.PAUSED, paused_reason="Stock")
    rung = []
    monkeypatch.setattr("campaigns.control.campaign_send_ring", rung.append)

    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(f"{URL}/{campaign.pk}/resume")

    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["paused_reason"]) == ("running", "")
    assert rung == [campaign.pk]
    assert campaign.changes.get().cause == "api"


# --- recipients ------------------------------------------------------------------------------


def test_recipients_come_in_cursor_pages_with_their_outcomes_and_filter_by_status(api_client, number, template):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.RUNNING)
    now = timezone.now()
    order = OrderFactory(phone_number=number)
    ordered = CampaignRecipientFactory(
        campaign=campaign,
        contact=ContactFactory(wa_id="971501230077"),
        status=R.ORDERED,
        cost=Decimal("0.01875"),
        sent_at=now,
        status_at=now,
        order=order,
        revenue_minor=64000,
    )
    failed = CampaignRecipientFactory(
        campaign=campaign, status=R.FAILED, error_code=131026, error_title="Undeliverable"
    )
    skipped = CampaignRecipientFactory(campaign=campaign, status=R.SKIPPED, skip_reason=SkipReason.US_MARKETING)
    CampaignRecipientFactory(status=R.SENT)  # another campaign's

    first = api_client.get(f"{URL}/{campaign.pk}/recipients", {"limit": 2}).json()
    rest = api_client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + rest["results"]] == [ordered.pk, failed.pk, skipped.pk]
    shown = first["results"][0]
    assert shown["contact"] == {"id": ordered.contact_id, "wa_id": "971501230077", "bsuid": None}
    assert (shown["status"], Decimal(shown["cost"]), shown["revenue_minor"]) == ("ordered", Decimal("0.01875"), 64000)
    assert shown["order"] == {"reference": order.reference, "currency": order.currency}
    assert shown["sent_at"] is not None and shown["status_at"] is not None
    assert (first["results"][1]["error_code"], first["results"][1]["error_title"]) == (131026, "Undeliverable")
    assert (rest["results"][0]["skip_reason"], rest["results"][0]["order"]) == ("us_marketing", None)

    only_failed = api_client.get(f"{URL}/{campaign.pk}/recipients", {"status": "failed"}).json()["results"]
    assert [r["id"] for r in only_failed] == [failed.pk]


# --- other accounts --------------------------------------------------------------------------


def test_a_key_of_another_account_finds_no_campaign_of_the_first_and_changes_nothing(
    api_client_factory, number, template
):
    campaign = CampaignFactory(phone_number=number, template=template, status=S.RUNNING)
    CampaignRecipientFactory(campaign=campaign)
    other = PhoneNumberFactory()
    mine = CampaignFactory(phone_number=other)
    limited = api_client_factory(accounts=[other.business_account])

    assert [c["id"] for c in limited.get(URL).json()["results"]] == [mine.pk]
    assert problem_pointers(limited.get(f"{URL}/{campaign.pk}"), 404) == []
    assert problem_pointers(limited.get(f"{URL}/{campaign.pk}/recipients"), 404) == []
    for name in ("start", "pause", "resume", "cancel"):
        assert limited.post(f"{URL}/{campaign.pk}/{name}").status_code == 404, name
    campaign.refresh_from_db()
    assert campaign.status == S.RUNNING and not campaign.changes.exists()
