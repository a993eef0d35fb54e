from django.db import models

from waco.crypto import EncryptedTextField


class MessagingLimitTier(models.TextChoices):
    """Unique users a business portfolio may reach outside the window in a moving 24 h."""

    TIER_250 = "TIER_250", "250"
    TIER_2K = "TIER_2K", "2,000"
    TIER_10K = "TIER_10K", "10,000"
    TIER_100K = "TIER_100K", "100,000"
    TIER_UNLIMITED = "TIER_UNLIMITED", "Unlimited"


# None means no limit.
MESSAGING_LIMIT_USERS = {
    MessagingLimitTier.TIER_250: 250,
    MessagingLimitTier.TIER_2K: 2_000,
    MessagingLimitTier.TIER_10K: 10_000,
    MessagingLimitTier.TIER_100K: 100_000,
    MessagingLimitTier.TIER_UNLIMITED: None,
}


class QualityRating(models.TextChoices):
    GREEN = "GREEN", "Green (high)"
    YELLOW = "YELLOW", "Yellow (medium)"
    RED = "RED", "Red (low)"
    UNKNOWN = "UNKNOWN", "Unknown"


class BusinessAccount(models.Model):
    """A WhatsApp Business Account (WABA) and the system-user token that acts for it.

    The messaging limit belongs to the business portfolio; we keep it here
    because every number of the account shares it.
    """

    name = models.CharField(max_length=200)
    waba_id = models.CharField("WABA id", max_length=64, unique=True)
    access_token = EncryptedTextField(help_text="System-user access token. Stored encrypted; never shown back in full.")
    access_token_last4 = models.CharField(max_length=4, blank=True, editable=False)
    messaging_limit_tier = models.CharField(
        max_length=20, choices=MessagingLimitTier.choices, default=MessagingLimitTier.TIER_250
    )
    # Meta's Marketing Messages API, once the business accepted its terms: marketing templates then
    # go to /<number>/marketing_messages, everything else still to /messages (outbound.sending).
    marketing_messages_api = models.BooleanField(
        "Marketing Messages API",
        default=False,
        help_text="Send marketing templates through Meta's Marketing Messages API. Turn on only once the "
        "business has accepted its terms in WhatsApp Manager.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.waba_id})"

    def save(self, *args, **kwargs):
        self.access_token_last4 = (self.access_token or "")[-4:]
        super().save(*args, **kwargs)

    @property
    def messaging_limit(self) -> int | None:
        """Unique users per moving 24 h outside the window; None for unlimited."""
        return MESSAGING_LIMIT_USERS[MessagingLimitTier(self.messaging_limit_tier)]

    @property
    def access_token_hint(self) -> str:
        return f"…{self.access_token_last4}" if self.access_token_last4 else "(not set)"


class PhoneNumber(models.Model):
    """A business phone number registered on the Cloud API."""

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.PROTECT, related_name="phone_numbers")
    graph_id = models.CharField("phone number id", max_length=64, unique=True, help_text="Meta's phone_number_id.")
    display_phone_number = models.CharField(max_length=32)
    verified_name = models.CharField(max_length=200, blank=True)
    quality_rating = models.CharField(max_length=10, choices=QualityRating.choices, default=QualityRating.UNKNOWN)
    # Meta's default is 80 messages/s, raised automatically up to 1,000.
    throughput_mps = models.PositiveIntegerField("throughput (messages/s)", default=80)
    sending_paused = models.BooleanField(default=False)
    sending_paused_reason = models.TextField(blank=True)
    sending_paused_at = models.DateTimeField(null=True, blank=True)
    quality_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_phone_number"]

    def __str__(self):
        return f"{self.display_phone_number} ({self.graph_id})"
