"""POST /api/v1/contacts/batch: up to 1,000 contacts, one result per item in the request's order."""

import threading

import pytest
from django.db import connection

from tests.contacts.factories import ContactFactory
from waco.contacts import details
from waco.contacts.models import Contact, ContactAlias

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/contacts/batch"


def test_each_item_is_applied_on_its_own_and_answered_in_order(api_client):
    ContactFactory(wa_id="971501230001", name="Huda")
    body = {
        "contacts": [
            {"contact": "+971 50 123 0002", "name": "Amal", "tags": ["vip", "vip"]},
            {"contact": "971501230001", "name": "Huda"},
            {"contact": "971501230001", "name": "Huda H."},
            {"contact": "hello", "name": "Nobody"},
            {"contact": "971501230003", "time_zone": "Mars/Olympus"},
            {"contact": "US.404", "name": "Unknown"},
            "not an object",
            {"name": "no identifier"},
        ]
    }

    answer = api_client.post(BATCH, body)

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["result"] for r in results] == [
        "created",
        "unchanged",
        "updated",
        "invalid",
        "invalid",
        "not_found",
        "invalid",
        "invalid",
    ]
    assert results[0]["wa_id"] == "971501230002"
    assert [r["contact"] for r in results[:6]] == [item["contact"] for item in body["contacts"][:6]]
    assert results[3]["errors"][0]["pointer"] == "/contacts/3/contact"
    assert "neither a wa_id" in results[3]["errors"][0]["detail"]
    assert [e["pointer"] for e in results[4]["errors"]] == ["/contacts/4/time_zone"]
    assert results[5]["errors"][0]["pointer"] == "/contacts/5/contact"
    assert results[6]["errors"][0]["pointer"] == "/contacts/6"
    assert [e["pointer"] for e in results[7]["errors"]] == ["/contacts/7/contact"]
    assert Contact.objects.get(wa_id="971501230002").tags == ["vip"]
    assert Contact.objects.get(wa_id="971501230001").name == "Huda H."
    assert not Contact.objects.filter(wa_id="971501230003").exists()


def test_a_full_batch_of_1000_is_taken(api_client):
    items = [{"contact": f"9715{n:08d}", "tags": ["import"]} for n in range(1000)]

    answer = api_client.post(BATCH, {"contacts": items})

    assert answer.status_code == 200
    assert {r["result"] for r in answer.json()["results"]} == {"created"}
    assert Contact.objects.filter(tags=["import"]).count() == 1000


@pytest.mark.parametrize(("count", "says"), [(1001, "no more than 1000"), (0, "")])
def test_more_than_1000_or_none_is_refused_whole(api_client, count, says):
    items = [{"contact": f"9715{n:08d}"} for n in range(count)]

    answer = api_client.post(BATCH, {"contacts": items})

    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["pointer"] == "/contacts" and says in error["detail"]
    assert not Contact.objects.exists()


def test_a_contact_named_twice_or_by_its_alias_is_one_contact_in_order(api_client):
    known = ContactFactory(wa_id="551187654321", name="Rafa")
    ContactAlias.objects.create(wa_id="5511987654321", contact=known)
    body = {
        "contacts": [
            {"contact": "+971 50 123 0002", "name": "Amal"},
            {"contact": "971501230002", "name": "Amal"},
            {"contact": "971501230002", "name": "Amal M."},
            {"contact": "+55 11 98765-4321", "name": "Rafael"},
        ]
    }

    results = api_client.post(BATCH, body).json()["results"]

    assert [r["result"] for r in results] == ["created", "unchanged", "updated", "updated"]
    assert results[3]["wa_id"] == "551187654321"
    assert Contact.objects.get(wa_id="971501230002").name == "Amal M."
    assert Contact.objects.get(pk=known.pk).name == "Rafael"


def test_a_contact_created_meanwhile_by_a_webhook_is_updated_not_doubled(transactional_db, monkeypatch):
    """The batch reads which contacts exist, a webhook's worker creates one of the new ones, the batch goes on."""
    real = details._contacts_named

    def webhook_meanwhile(names):
        found = real(names)
        worker = threading.Thread(target=_worker_creates, args=("971501230009",))
        worker.start()
        worker.join()
        return found

    monkeypatch.setattr(details, "_contacts_named", webhook_meanwhile)

    [put] = details.contacts_details_put([("971501230009", details.ContactDetails(name="Hessa K."))])

    assert put.result == "updated"
    assert Contact.objects.get().name == "Hessa K."


def test_a_batch_takes_a_few_queries_whatever_its_size(django_assert_max_num_queries):
    ContactFactory(wa_id="971500000001")
    items = [(f"9715{n:08d}", details.ContactDetails(tags=["import"])) for n in range(200)]

    with django_assert_max_num_queries(8):
        results = details.contacts_details_put(items)

    assert {put.result for put in results} == {"created", "updated"}


def _worker_creates(wa_id: str) -> None:
    try:
        Contact.objects.create(wa_id=wa_id, profile_name="Hessa")  # its own connection: committed at once
    finally:
        connection.close()
