"""A shop for tests of /messages, /templates and /threads: one account, its number, a customer,
and a purpose whose chain holds one approved template with named parameters."""

from dataclasses import dataclass

from django.utils import timezone

from templates_lib.models import Template, TemplateCategory
from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from waco.channels.models import PhoneNumber
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource, Contact

PURPOSE = "order_update"
ORDER_SHIPPED = [
    {
        "type": "BODY",
        "text": "Hi {{customer}}, your order {{order_id}} has shipped.",
        "example": {
            "body_text_named_params": [
                {"param_name": "customer", "example": "Amal"},
                {"param_name": "order_id", "example": "W7K3Q9P2"},
            ]
        },
    }
]
ORDER_SHIPPED_PARAMETERS = [
    {"component": "body", "name": "customer", "type": "text"},
    {"component": "body", "name": "order_id", "type": "text"},
]
PARAMS = {"customer": "Amal", "order_id": "W7K3Q9P2"}


@dataclass
class MessageShop:
    number: PhoneNumber
    customer: Contact
    template: Template

    @property
    def account(self):
        return self.number.business_account

    def window_open(self, contact: Contact | None = None) -> None:
        """The customer wrote just now."""
        contacts.window_touch(contact=contact or self.customer, phone_number=self.number, inbound_at=timezone.now())

    def consent(self, action=ConsentAction.OPT_IN, category=ConsentCategory.UTILITY) -> None:
        contacts.consent_record(
            contact=self.customer,
            category=category,
            action=action,
            source=ConsentSource.API,
            recorded_at=timezone.now(),
        )


def message_shop(*, number: PhoneNumber | None = None, customer: Contact | None = None) -> MessageShop:
    number = number or PhoneNumberFactory(business_account=BusinessAccountFactory())
    template = TemplateFactory(
        business_account=number.business_account,
        name="order_shipped",
        category=TemplateCategory.UTILITY,
        components=ORDER_SHIPPED,
        parameters=ORDER_SHIPPED_PARAMETERS,
    )
    purpose = PurposeFactory(key=PURPOSE, category=TemplateCategory.UTILITY)
    PurposeTemplateFactory(purpose=purpose, template=template, position=0)
    return MessageShop(number=number, customer=customer or ContactFactory(wa_id="971501230001"), template=template)
