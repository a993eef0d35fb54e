"""Orders as checkout leaves them: placed (a link open) or paid (Stripe's payment recorded)."""

from datetime import timedelta

import factory
from django.utils import timezone

from checkout.models import LinkStatus, Order, OrderLine, OrderStatus, PaymentLink
from checkout.services import WantedLine, order_place
from templates_lib import services as templates
from templates_lib.demo_data import DEMO_TEMPLATES
from templates_lib.models import Purpose
from templates_lib.params import PLACEHOLDER
from tests.channels.factories import PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.templates_lib.factories import TemplateFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource


class OrderFactory(factory.django.DjangoModelFactory):
    """An order waiting for payment, with one line; see paid_order() for one Stripe has paid."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"W{n:07d}")
    phone_number = factory.SubFactory(PhoneNumberFactory)
    business_account = factory.SelfAttribute("phone_number.business_account")
    contact = factory.SubFactory(ContactFactory, profile_name="Amal")
    status = OrderStatus.PENDING_PAYMENT
    currency = "AED"
    total_minor = 640_00
    line = factory.RelatedFactory("tests.checkout.factories.OrderLineFactory", factory_related_name="order")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory, line=None)
    sku = "ABY-M"
    name = "Linen Abaya M"
    quantity = 2
    unit_price_minor = 320_00
    line_total_minor = 640_00


class PaymentLinkFactory(factory.django.DjangoModelFactory):
    """An open link with its Stripe session; pass status=LinkStatus.PAID (see paid_order) for a paid one."""

    class Meta:
        model = PaymentLink

    order = factory.SubFactory(OrderFactory)
    attempt = factory.Sequence(lambda n: n + 1)
    token = factory.Sequence(lambda n: f"token-{n:08d}")
    idempotency_key = factory.Sequence(lambda n: f"waco-test-link-{n}")
    status = LinkStatus.OPEN
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=40))
    stripe_session_id = factory.Sequence(lambda n: f"cs_test_{n:08d}")
    stripe_session_url = factory.LazyAttribute(lambda link: f"https://checkout.stripe.test/{link.stripe_session_id}")


def utility_consent(contact, *, at=None) -> None:
    """What placing an order records: consent to hear about it."""
    contacts.consent_record(
        contact=contact,
        category=ConsentCategory.UTILITY,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.CHECKOUT,
        recorded_at=at or timezone.now() - timedelta(hours=1),
    )


def paid_order(*, status=OrderStatus.PAID, **kwargs) -> Order:
    """An order Stripe has paid (640.00 AED), with the customer's consent to updates, as checkout leaves it;
    pass a later `status` for one fulfilment has moved on."""
    now = timezone.now()
    order = OrderFactory(status=status, paid_at=now, **kwargs)
    PaymentLinkFactory(
        order=order,
        status=LinkStatus.PAID,
        amount_paid_minor=order.total_minor,
        settled_at=now,
        stripe_payment_intent_id=f"pi_test_{order.reference}",
    )
    utility_consent(order.contact)
    return order


def approved_chain(business_account, purpose_key: str, *names: str) -> list:
    """Approved copies of the demo template of the purpose (same body, same named parameters),
    chained in this order: a send that renders them passes exactly the demo's parameters."""
    _, _, category, body = next(row for row in DEMO_TEMPLATES if row[0] == purpose_key)
    parameters = [
        {"component": "body", "name": name, "type": "text"} for name in dict.fromkeys(PLACEHOLDER.findall(body))
    ]
    chain = [
        TemplateFactory(
            business_account=business_account,
            name=name,
            language="en",
            category=category,
            components=[{"type": "BODY", "text": body}],
            parameters=parameters,
        )
        for name in names
    ]
    templates.purpose_chain_set(
        purpose=Purpose.objects.get(key=purpose_key), business_account=business_account, templates=chain
    )
    return chain


def place(variant, quantity=1, *, contact=None, number=None, seen=None) -> Order:
    """An order placed the way checkout places one: live prices, stock held, a link to come."""
    return order_place(
        contact=contact or ContactFactory(),
        phone_number=number or PhoneNumberFactory(),
        lines=[WantedLine(variant, quantity)],
        seen_total_minor=seen,
    )
