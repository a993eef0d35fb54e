from datetime import timedelta

from django.db import models
from django.db.models import Q

from waco.channels.models import PhoneNumber
from waco.contacts.validators import (
    validate_attributes,
    validate_language,
    validate_tags,
    validate_time_zone,
)

# Meta's customer service window: free-form messages only within 24 h of the
# customer's last message to that number.
SERVICE_WINDOW = timedelta(hours=24)


class Contact(models.Model):
    """A WhatsApp user, keyed on whichever identity Meta sends.

    `wa_id` is the phone-based id; `user_id` is the business-scoped id Meta
    sends for users with usernames, sometimes without a wa_id. A message that
    carries both links them to one contact.
    """

    wa_id = models.CharField("WhatsApp id", max_length=64, unique=True, null=True, blank=True)
    user_id = models.CharField("business-scoped user id", max_length=255, unique=True, null=True, blank=True)
    # Stored for reference only: a parent id (CC.ENT...) spans linked business portfolios,
    # while one deployment serves one, so it never identifies or merges contacts.
    parent_user_id = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=128, blank=True)
    profile_name = models.CharField(max_length=256, blank=True, help_text="The name WhatsApp shows (the customer's).")
    # The merchant's facts (the storefront's PUT /contacts, the admin); WhatsApp never changes them.
    name = models.CharField(max_length=256, blank=True, help_text="The name the merchant knows the customer by.")
    language = models.CharField(
        max_length=15, blank=True, validators=[validate_language], help_text="A WhatsApp language code: en_US, ar."
    )
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone], help_text="An IANA time zone: Asia/Dubai."
    )
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    attributes = models.JSONField(default=dict, blank=True, validators=[validate_attributes])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(wa_id__isnull=False) | Q(user_id__isnull=False),
                name="contact_has_an_identity",
            )
        ]

    def __str__(self):
        who = self.wa_id or self.user_id
        shown = self.name or self.profile_name
        return f"{shown} ({who})" if shown else who


class ContactAlias(models.Model):
    """A wa_id the merchant knows a contact by that Meta knows under another.

    Meta answers a send to some numbers with a different `contacts[].wa_id`
    (Brazil's ninth digit, Mexico's 1 after 52) and writes webhooks with that
    one, so the contact takes Meta's wa_id: replies land in its thread. The
    number as the storefront sent it stays here, so the REST API still finds
    the contact by it. Only the API's lookup reads aliases; webhooks carry
    Meta's ids, and a contact's own wa_id wins over an alias.
    """

    wa_id = models.CharField("number as sent", max_length=64, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="aliases")
    wamid = models.CharField(max_length=255, blank=True, help_text="The send whose answer named Meta's wa_id.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "contact aliases"

    def __str__(self):
        return f"{self.wa_id} -> {self.contact}"


class ConsentCategory(models.TextChoices):
    UTILITY = "utility", "Utility (order updates)"
    MARKETING = "marketing", "Marketing"


class ConsentAction(models.TextChoices):
    OPT_IN = "opt_in", "Opted in"
    OPT_OUT = "opt_out", "Opted out"


class ConsentSource(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp (the customer's own setting)"  # user_preferences webhook
    CHECKOUT = "checkout", "Checkout"  # placing an order consents to its updates
    THREAD = "thread", "Conversation"  # the customer answered our question in the thread
    API = "api", "REST API"  # the storefront or CRM recorded it
    ADMIN = "admin", "Admin"  # staff recorded it (e.g. an in-store sign-up)
    IMPORT = "import", "Imported list"  # a campaign's CSV said so, with the merchant's proof


class ConsentEntry(models.Model):
    """One consent act. The ledger is append-only: the newest entry per
    category wins, and the history shows who changed what, when and how."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_entries")
    category = models.CharField(max_length=16, choices=ConsentCategory.choices)
    action = models.CharField(max_length=16, choices=ConsentAction.choices)
    source = models.CharField(max_length=16, choices=ConsentSource.choices)
    recorded_at = models.DateTimeField(help_text="When the customer gave or withdrew consent.")
    reference = models.CharField(max_length=200, blank=True, help_text="e.g. an order or event id")
    proof = models.TextField(blank=True, help_text="How consent was given, as the recorder states it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "consent entries"
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["contact", "category", "-recorded_at", "-id"])]

    def __str__(self):
        return f"{self.contact} {self.category} {self.action} ({self.source})"


class ServiceWindow(models.Model):
    """The 24-hour customer service window of one contact with one business number."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="service_windows")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="service_windows")
    last_inbound_at = models.DateTimeField(help_text="Meta's timestamp of the customer's newest message.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "phone_number"], name="one_window_per_contact_and_number")
        ]

    def __str__(self):
        return f"{self.contact} with {self.phone_number}: until {self.open_until:%Y-%m-%d %H:%M}"

    @property
    def open_until(self):
        return self.last_inbound_at + SERVICE_WINDOW if self.last_inbound_at else None  # None: an unsaved row

    def is_open(self, *, now) -> bool:
        return now < self.open_until
