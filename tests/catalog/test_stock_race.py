"""A stock push counted before a WhatsApp sale, racing that sale's payment, never re-offers the sold unit.

Two threads, each on its own PostgreSQL connection: one applies Stripe's "paid" for the order
(the units become sold at the payment time), the other POSTs /api/v1/stock with the ERP's level,
counted before the sale and still counting the unit. Whichever commits first, the unit stays sold.
"""

import threading
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone

from catalog import stock
from checkout import payments, stripe_client
from checkout.models import Order, OrderStatus
from checkout.services import WantedLine, order_place
from tests.catalog.factories import VariantFactory
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.support.api import ApiClient, api_key

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6


def paid_session(link) -> stripe_client.CheckoutSession:
    return stripe_client.CheckoutSession(
        id=f"cs_test_{link.pk}",
        url=None,
        status="complete",
        payment_status="paid",
        expires_at=link.expires_at,
        amount_total=link.order.total_minor,
        currency=link.order.currency.lower(),
        payment_intent_id=f"pi_test_{link.pk}",
    )


def pay(link) -> str:
    return payments.session_paid_apply(link_id=link.pk, session=paid_session(link), now=timezone.now())


def push(raw_key: str, level: dict) -> tuple[int, str]:
    answer = ApiClient(raw_key).post("/api/v1/stock", {"levels": [level]})
    return answer.status_code, answer.json()["results"][0]["result"]


def run_together(*jobs) -> list:
    """Start the jobs at once on their own threads (and DB connections); their results or errors."""
    barrier, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # re-raised by the test below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_level_counted_before_a_paid_sale_never_re_offers_the_sold_unit():
    number = PhoneNumberFactory()
    account = number.business_account
    _, raw = api_key(scopes=["catalog:write"], accounts=[account])
    for round in range(ROUNDS):
        variant = VariantFactory(
            product__category__business_account=account,
            sku=f"KFT-{round}",
            on_hand=1,
            on_hand_as_of=timezone.now() - timedelta(hours=1),
        )
        order, link = order_place(
            contact=ContactFactory(), phone_number=number, lines=[WantedLine(variant, 1)], seen_total_minor=None
        )
        counted = timezone.now()  # a second unit came in: the ERP counts two, then the customer pays for one
        level = {"sku": variant.sku, "on_hand": 2, "as_of": counted.isoformat()}

        paid, pushed = run_together(partial(pay, link), partial(push, raw, level))
        assert paid == "paid", paid
        assert pushed == (200, "applied"), pushed
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
        assert stock.available_one(variant=variant) == 1, f"round {round}: the sold unit is offered again"
