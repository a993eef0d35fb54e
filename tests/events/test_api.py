"""/api/v1/webhook-endpoints and /api/v1/events: the secret shown once, scopes, accounts, the catch-up cursor."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from tests.channels.factories import BusinessAccountFactory
from tests.support.api import tables_containing
from tests.support.events import endpoint_to, event_commit
from waco.api.models import IdempotentRequest
from waco.events import services
from waco.events.models import EventType, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "https://shop.example/hooks/waco"


@pytest.fixture(autouse=True)
def events_settled_at_once(settings):
    settings.WACO_EVENTS_LIST_SETTLE_SECONDS = 0


def test_a_created_endpoint_shows_its_secret_once_and_never_stores_it_in_plaintext(api_client):
    answer = api_client.post("/api/v1/webhook-endpoints", {"url": URL, "event_types": ["order.paid"]})

    assert answer.status_code == 201
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == secret and endpoint.enabled
    assert "secret" not in api_client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}").json()
    assert "secret" not in api_client.get("/api/v1/webhook-endpoints").json()["results"][0]
    assert tables_containing(secret.removeprefix("whsec_")) == []


def test_rotation_answers_the_new_secret_and_keeps_the_old_one_for_24_hours(api_client):
    endpoint, old = endpoint_to(URL)

    answer = api_client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate")

    assert answer.status_code == 200
    endpoint.refresh_from_db()
    assert answer.json()["secret"] == endpoint.secret != old
    assert endpoint.previous_secret == old and answer.json()["previous_secret_expires_at"]


def test_with_an_idempotency_key_a_retry_gets_the_same_secret_and_no_table_holds_one(api_client):
    """The README's curl example sends an Idempotency-Key: the answer kept for retries carries the secret."""

    def create():
        body = {"url": URL, "event_types": ["order.paid"]}
        return api_client.post("/api/v1/webhook-endpoints", body, HTTP_IDEMPOTENCY_KEY="create-1")

    created, created_again = create(), create()
    endpoint_id = created.json()["id"]

    def rotate():
        return api_client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate", HTTP_IDEMPOTENCY_KEY="rotate-1")

    rotated, rotated_again = rotate(), rotate()

    assert (created.status_code, created_again.status_code) == (201, 201)
    assert created_again.json() == created.json() and created_again["Idempotent-Replayed"] == "true"
    assert (rotated.status_code, rotated_again.status_code) == (200, 200)
    assert rotated_again.json() == rotated.json() and rotated_again["Idempotent-Replayed"] == "true"
    endpoint = WebhookEndpoint.objects.get()  # one endpoint, rotated once: the retries did nothing
    assert (endpoint.previous_secret, endpoint.secret) == (created.json()["secret"], rotated.json()["secret"])
    assert IdempotentRequest.objects.filter(status__isnull=False).count() == 2  # both answers are kept...
    assert tables_containing("whsec_") == []  # ...and no table holds a secret in plaintext
    for secret in (endpoint.previous_secret, endpoint.secret):
        assert tables_containing(secret.removeprefix("whsec_")) == []


def test_patch_and_delete(api_client):
    endpoint, _ = endpoint_to(URL)
    endpoint.enabled, endpoint.disabled_reason = False, "every attempt failed since ..."
    endpoint.save()

    answer = api_client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}", {"enabled": True, "event_types": ["stock.released"]}
    )

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["enabled"], answer.json()["event_types"], answer.json()["disabled_reason"]) == (
        True,
        ["stock.released"],
        "",
    )
    assert api_client.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "body, pointer",
    [
        ({"url": "http://shop.example/hooks", "event_types": ["order.paid"]}, "/url"),
        ({"url": "https://10.0.0.8/hooks", "event_types": ["order.paid"]}, "/url"),
        ({"url": URL, "event_types": ["order.teleported"]}, "/event_types/0"),
        ({"url": URL, "event_types": []}, "/event_types"),
    ],
)
def test_refused_endpoints_point_at_the_field(api_client, settings, body, pointer):
    settings.WACO_EVENTS_ALLOW_LOOPBACK = False  # production's rule

    answer = api_client.post("/api/v1/webhook-endpoints", body)

    assert answer.status_code == 422
    assert pointer in [error["pointer"] for error in answer.json()["errors"]]


def test_the_scope_is_webhooks_manage(api_client_factory):
    client = api_client_factory(scopes=["orders:read"])

    assert client.get("/api/v1/webhook-endpoints").status_code == 403
    assert client.get("/api/v1/events").status_code == 403


def test_a_key_limited_to_an_account_sees_and_makes_only_endpoints_of_its_accounts(api_client_factory):
    mine, theirs = BusinessAccountFactory(), BusinessAccountFactory()
    client = api_client_factory(accounts=[mine])
    for_all, _ = endpoint_to(URL)
    for_them, _ = endpoint_to(URL, accounts=[theirs])

    made = client.post("/api/v1/webhook-endpoints", {"url": URL, "event_types": ["order.paid"]}).json()

    assert made["accounts"] == [mine.waba_id]  # not every account: it would carry the other accounts' events
    assert [e["id"] for e in client.get("/api/v1/webhook-endpoints").json()["results"]] == [made["id"]]
    assert client.get(f"/api/v1/webhook-endpoints/{for_all.pk}").status_code == 404
    assert client.patch(f"/api/v1/webhook-endpoints/{for_them.pk}", {"enabled": False}).status_code == 404
    refused = client.post(
        "/api/v1/webhook-endpoints", {"url": URL, "event_types": ["order.paid"], "accounts": [theirs.waba_id]}
    )
    assert refused.status_code == 404


def test_events_after_an_id_come_oldest_first_as_delivered_page_by_page(api_client):
    events = [event_commit(EventType.ORDER_CREATED, f"order:W-{n}", {"n": n}) for n in range(5)]

    first = api_client.get("/api/v1/events", {"limit": 2}).json()
    second = api_client.get(first["next"]).json()
    rest = api_client.get("/api/v1/events", {"after": second["results"][-1]["id"]}).json()

    assert [e["id"] for e in first["results"] + second["results"] + rest["results"]] == [e.id for e in events]
    assert first["results"][0] == json.loads(events[0].body)
    assert rest["next"] is None


def test_events_filter_by_type_subject_and_the_keys_accounts(api_client_factory):
    mine, theirs = BusinessAccountFactory(), BusinessAccountFactory()
    paid = event_commit(EventType.ORDER_PAID, "order:W-1", business_account=mine)
    event_commit(EventType.ORDER_PAID, "order:W-2", business_account=theirs)
    consent = event_commit(EventType.CONSENT_CHANGED, "contact:9")
    client = api_client_factory(accounts=[mine])

    def ids(**query):
        return [e["id"] for e in client.get("/api/v1/events", query).json()["results"]]

    assert ids() == [paid.id, consent.id]
    assert ids(type="consent.changed") == [consent.id]
    assert ids(subject="order:W-1") == [paid.id]
    assert client.get("/api/v1/events", {"type": "order.lost"}).status_code == 422


def test_events_of_the_last_seconds_wait_for_the_next_call(api_client, settings):
    settings.WACO_EVENTS_LIST_SETTLE_SECONDS = 60
    event_commit(EventType.ORDER_PAID, "order:W-1")

    assert api_client.get("/api/v1/events").json()["results"] == []


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_later_ones_still_reaches_a_receiver_catching_up(api_client, settings):
    """A change's transaction stays open far past the settle time while a later event commits: the list
    holds back what came after that transaction began, so the receiver's cursor never passes its event."""
    settings.WACO_EVENTS_LIST_SETTLE_SECONDS = 1
    recorded, release, slow = threading.Event(), threading.Event(), {}

    def slow_change():
        try:
            with transaction.atomic():
                slow["event"] = services.event_record(EventType.ORDER_PAID, "order:W-1", {})
                recorded.set()
                release.wait(30)
        finally:
            connection.close()

    seen, cursor = [], {}

    def catch_up():
        page = api_client.get("/api/v1/events", cursor).json()
        seen.extend(event["id"] for event in page["results"])
        if seen:
            cursor["after"] = seen[-1]
        assert page["next"] is None

    thread = threading.Thread(target=slow_change)
    thread.start()
    try:
        assert recorded.wait(30), "the slow change never recorded its event"
        later = event_commit(EventType.ORDER_PAID, "order:W-2")
        assert later.id > slow["event"].id
        with time_machine.travel(timezone.now() + timedelta(seconds=10)):  # open 10 s, settle 1 s
            catch_up()
            assert seen == []  # order:W-2 waits: the open transaction began before it
            release.set()
            thread.join(30)
            catch_up()
    finally:
        release.set()
        thread.join(30)

    assert seen == [slow["event"].id, later.id]
