"""What Meta owns of a number or an account is shown, never edited, in the admin; a number with
history (threads, messages, orders) cannot be deleted."""

import pytest
from django.urls import reverse

from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.checkout.factories import OrderFactory
from tests.conversations.factories import ThreadFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.support.admin_pages import delete_offered, delete_refused
from waco.channels.models import BusinessAccount, MessagingLimitTier, PhoneNumber, QualityRating

pytestmark = pytest.mark.django_db

NUMBER_FROM_META = ["graph_id", "display_phone_number", "verified_name", "quality_rating", "throughput_mps"]


def number_url(number) -> str:
    return reverse("admin:channels_phonenumber_change", args=[number.pk])


def account_url(account) -> str:
    return reverse("admin:channels_businessaccount_change", args=[account.pk])


def test_a_number_s_page_shows_meta_s_values_as_text_not_fields(admin_client):
    number = PhoneNumberFactory(graph_id="106540352242922", quality_rating=QualityRating.YELLOW, throughput_mps=1000)
    page = admin_client.get(number_url(number)).content.decode()
    for field in [*NUMBER_FROM_META, "business_account", "quality_checked_at"]:
        assert f'name="{field}"' not in page, field
    assert "106540352242922" in page and "Yellow (medium)" in page and "1000" in page


def test_posting_new_meta_values_for_a_number_changes_nothing(admin_client):
    number = PhoneNumberFactory(quality_rating=QualityRating.GREEN, throughput_mps=80)
    other = BusinessAccountFactory()
    before = PhoneNumber.objects.filter(pk=number.pk).values().get()
    response = admin_client.post(
        number_url(number),
        {
            "graph_id": "999",
            "display_phone_number": "+1 555 0000",
            "verified_name": "Not us",
            "quality_rating": QualityRating.RED,
            "throughput_mps": "1000",
            "business_account": other.pk,
        },
    )
    assert response.status_code == 302
    after = PhoneNumber.objects.filter(pk=number.pk).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_a_new_number_is_typed_with_meta_s_ids_but_not_its_ratings(admin_client):
    page = admin_client.get(reverse("admin:channels_phonenumber_add")).content.decode()
    assert 'name="graph_id"' in page and 'name="display_phone_number"' in page
    assert 'name="quality_rating"' not in page and 'name="throughput_mps"' not in page


def test_an_account_s_waba_id_and_messaging_limit_are_meta_s(admin_client):
    account = BusinessAccountFactory(waba_id="102290129340398", messaging_limit_tier=MessagingLimitTier.TIER_10K)
    PhoneNumberFactory(business_account=account, graph_id="106540352242922")
    page = admin_client.get(account_url(account)).content.decode()
    assert 'name="name"' in page  # the shop's own
    assert 'name="waba_id"' not in page and 'name="messaging_limit_tier"' not in page
    assert "102290129340398" in page and "10,000" in page
    assert 'name="phone_numbers-0-graph_id"' not in page and "106540352242922" in page  # the inline, read-only
    assert 'name="phone_numbers-0-DELETE"' not in page

    response = admin_client.post(
        account_url(account),
        {
            "name": "Renamed",
            "waba_id": "1",
            "messaging_limit_tier": MessagingLimitTier.TIER_UNLIMITED,
            "access_token": "",
            "phone_numbers-TOTAL_FORMS": "1",
            "phone_numbers-INITIAL_FORMS": "1",
            "phone_numbers-MIN_NUM_FORMS": "0",
            "phone_numbers-MAX_NUM_FORMS": "1000",
            "phone_numbers-0-id": account.phone_numbers.get().pk,
            "phone_numbers-0-business_account": account.pk,
            "phone_numbers-0-graph_id": "999",
        },
    )
    assert response.status_code == 302
    account = BusinessAccount.objects.get(pk=account.pk)
    assert (account.name, account.waba_id, account.messaging_limit_tier) == (
        "Renamed",
        "102290129340398",
        MessagingLimitTier.TIER_10K,
    )
    assert account.phone_numbers.get().graph_id == "106540352242922"


@pytest.mark.parametrize(
    "history",
    [
        lambda number: ThreadFactory(phone_number=number),
        lambda number: OutboundMessageFactory(phone_number=number),
        lambda number: OrderFactory(phone_number=number),
    ],
    ids=["a thread", "an outbound message", "an order"],
)
def test_a_number_with_history_cannot_be_deleted(admin_client, history):
    number = PhoneNumberFactory()
    history(number)
    assert delete_refused(admin_client, number)
    response = admin_client.post(
        reverse("admin:channels_phonenumber_changelist"),
        {"action": "delete_selected", "_selected_action": [number.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302) and PhoneNumber.objects.filter(pk=number.pk).exists()


def test_a_number_typed_by_mistake_with_no_history_can_be_deleted(admin_client):
    number = PhoneNumberFactory()
    assert delete_offered(admin_client, number)
    admin_client.post(reverse("admin:channels_phonenumber_delete", args=[number.pk]), {"post": "yes"})
    assert not PhoneNumber.objects.filter(pk=number.pk).exists()
