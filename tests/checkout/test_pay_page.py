"""/pay/<token>/: a redirect to Stripe while valid; otherwise a clear page and the way back to the chat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout.models import LinkStatus, PaymentLink
from tests.catalog.factories import VariantFactory
from tests.checkout.factories import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def link():
    _, link = place(VariantFactory())
    return link


def set_link(link, **values):
    PaymentLink.objects.filter(pk=link.pk).update(**values)


def test_an_unknown_token_gets_a_clear_404(client):
    response = client.get("/pay/not-a-real-token/")
    assert response.status_code == 404 and b"We don't know this payment link" in response.content


def test_a_link_whose_session_is_being_created_asks_to_wait(client, link):
    response = client.get(f"/pay/{link.token}/")
    assert response.status_code == 200 and b"Preparing your secure payment page" in response.content


def test_an_open_link_redirects_to_its_stripe_session_and_records_the_first_opening(client, link):
    set_link(link, status=LinkStatus.OPEN, stripe_session_url="https://checkout.stripe.com/c/pay/cs_test_1")
    response = client.get(f"/pay/{link.token}/")
    assert response.status_code == 302 and response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    assert PaymentLink.objects.get(pk=link.pk).opened_at is not None


@pytest.mark.parametrize(
    "values",
    [
        {"status": LinkStatus.EXPIRED},
        {"status": LinkStatus.FAILED},
        {"status": LinkStatus.OPEN, "expires_at": timezone.now() - timedelta(seconds=1)},
    ],
)
def test_an_expired_or_failed_link_says_so_and_points_back_to_whatsapp(client, link, values):
    set_link(link, **values)
    response = client.get(f"/pay/{link.token}/")
    assert response.status_code == 410 and b"This payment link has expired" in response.content
    assert b"https://wa.me/" in response.content and b"checkout" in response.content


def test_a_paid_link_is_not_a_second_payment(client, link):
    set_link(link, status=LinkStatus.PAID)
    response = client.get(f"/pay/{link.token}/")
    assert response.status_code == 410 and b"already paid" in response.content


def test_only_get_is_allowed(client, link):
    assert client.post(f"/pay/{link.token}/").status_code == 405
