"""The demo shop's templates: one per standard purpose the engine sends outside the window.

Seeded as drafts with their purpose chains; `demo_templates_submit` sends the
drafts for review once the web server answers, and the sandbox approves them
through its status webhook, as Meta would.
"""

from django.conf import settings

from templates_lib import services
from templates_lib.models import Purpose, Template, TemplateStatus
from templates_lib.params import PLACEHOLDER
from waco.channels.models import BusinessAccount

LANGUAGE = "en"

# (purpose key, template name, category, body with named placeholders)
DEMO_TEMPLATES = [
    (
        "order_receipt",
        "demo_order_receipt",
        "UTILITY",
        "Thank you {{customer}}! We received {{total}} for order {{order_ref}}. We will tell you when it ships.",
    ),
    (
        "order_update",
        "demo_order_update",
        "UTILITY",
        "Hello {{customer}}, your order {{order_ref}} is now {{status}}. {{detail}}",
    ),
    (
        "delivery_update",
        "demo_delivery_update",
        "UTILITY",
        "Hello {{customer}}, order {{order_ref}} is {{status}}. Track it here: {{tracking_url}}",
    ),
    (
        "payment_reminder",
        "demo_payment_reminder",
        "UTILITY",
        "Hello {{customer}}, your payment link for order {{order_ref}} ({{total}}) expires at {{expires_at}}.",
    ),
    (
        "cart_recovery",
        "demo_cart_recovery",
        "MARKETING",
        "Hello {{customer}}, you left {{items}} in your cart. Reply to pick up where you left off.",
    ),
    (
        "back_in_window",
        "demo_back_in_window",
        "UTILITY",
        "Hello {{customer}}, we have an update about your order {{order_ref}}. Reply to see it.",
    ),
    (
        "opt_in_confirmation",
        "demo_opt_in_confirmation",
        "UTILITY",
        "Hello {{customer}}, you will now get {{topic}} from us on WhatsApp. Reply STOP to end them.",
    ),
    (
        "payment_refunded",
        "demo_payment_refunded",
        "UTILITY",
        "Hello {{customer}}, your payment of {{total}} for order {{order_ref}} arrived after the items sold out, "
        "so we refunded it in full. Your bank shows it within a few days.",
    ),
]


def _payment_link_template() -> dict:
    """Positional throughout: Meta's URL buttons take {{1}} only, and one template does not mix styles."""
    return {
        "purpose": "payment_link",
        "name": "demo_payment_link",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Your order {{1}} comes to {{2}}. Pay securely with the button below before {{3}}.",
                "example": {"body_text": [["W7K3Q9P2", "660.00 AED", "14:30 UTC"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Pay now",
                        "url": f"{settings.WACO_PUBLIC_URL}/pay/{{{{1}}}}/",
                        "example": ["token"],
                    }
                ],
            },
        ],
        "parameters": [
            {"component": "body", "position": 1, "name": "order_ref", "type": "text"},
            {"component": "body", "position": 2, "name": "total", "type": "text"},
            {"component": "body", "position": 3, "name": "expires_at", "type": "text"},
            {"component": "button", "index": 0, "sub_type": "url", "position": 1, "name": "pay_token", "type": "text"},
        ],
    }


def _parameters(body: str) -> list[dict]:
    names = list(dict.fromkeys(PLACEHOLDER.findall(body)))
    return [{"component": "body", "name": name, "type": "text"} for name in names]


def _named_body_template(row: tuple) -> dict:
    purpose, name, category, body = row
    examples = [{"param_name": p["name"], "example": p["name"].replace("_", " ")} for p in _parameters(body)]
    return {
        "purpose": purpose,
        "name": name,
        "category": category,
        "parameters": _parameters(body),
        "components": [{"type": "BODY", "text": body, "example": {"body_text_named_params": examples}}],
    }


def demo_templates_seed(*, business_account: BusinessAccount) -> list[Template]:
    """Drafts for every demo template, each first in its purpose's chain (idempotent)."""
    seeded = []
    for definition in [*map(_named_body_template, DEMO_TEMPLATES), _payment_link_template()]:
        name = definition["name"]
        template = Template.objects.filter(business_account=business_account, name=name, language=LANGUAGE).first()
        if template is None:
            template = services.template_create_draft(
                business_account=business_account,
                name=name,
                language=LANGUAGE,
                category=definition["category"],
                components=definition["components"],
                parameters=definition["parameters"],
            )
        purpose = Purpose.objects.get(key=definition["purpose"])
        services.purpose_chain_set(purpose=purpose, business_account=business_account, templates=[template])
        seeded.append(template)
    return seeded


def demo_templates_submit(*, business_account: BusinessAccount) -> int:
    """Send the drafts for review (through the Graph API, to the sandbox); returns how many went."""
    submitted = 0
    for template in Template.objects.filter(business_account=business_account, status=TemplateStatus.DRAFT):
        services.template_submit(template=template)
        submitted += 1
    return submitted
