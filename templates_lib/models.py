"""Message templates: identity, versions, the review lifecycle, and purposes.

A Template is one name in one language on one business account: the thing a
purpose's chain points at and Meta reviews. Its content lives in versions, so
an edit never loses what was sent before. Its status is a django-fsm machine
whose every change is a TemplateStatusChange row, written by waco.transitions.transition_apply.
"""

from django.core.validators import RegexValidator
from django.db import models
from django_fsm import FSMField, transition

from waco.channels.models import BusinessAccount
from waco.transitions import StateChange


class TemplateCategory(models.TextChoices):
    MARKETING = "MARKETING", "Marketing"  # promotions; needs marketing opt-in, paid
    UTILITY = "UTILITY", "Utility"  # about an order or account the customer has
    AUTHENTICATION = "AUTHENTICATION", "Authentication"  # one-time passcodes


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # ours only; Meta has not seen it
    SUBMITTED = "submitted", "Submitted"  # at Meta, in review (or in appeal)
    APPROVED = "approved", "Approved"  # may be sent
    REJECTED = "rejected", "Rejected"  # review failed; see rejection_reason
    PAUSED = "paused", "Paused"  # Meta paused it for low quality; back to approved later
    DISABLED = "disabled", "Disabled"  # Meta disabled it for good (or until an appeal)
    ARCHIVED = "archived", "Archived"  # archived or deleted at Meta


class TemplateQuality(models.TextChoices):
    GREEN = "GREEN", "Green (high)"  # customers read and keep it
    YELLOW = "YELLOW", "Yellow (medium)"  # negative feedback is growing
    RED = "RED", "Red (low)"  # about to be paused
    UNKNOWN = "UNKNOWN", "Unknown"  # not rated yet (new or rarely sent)


class ChangeCause(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"  # an event Meta sent
    SYNC = "sync", "Sync"  # what Meta's template list said
    STAFF = "staff", "Staff"  # a person in the admin
    SUBMIT = "submit", "Submit"  # our own create call to Meta


# Templates Meta holds: a status webhook or a sync can only concern these, and a
# draft, since our submit's answer may have been lost while Meta kept the template.
AT_META_STATUSES = (
    TemplateStatus.SUBMITTED,
    TemplateStatus.APPROVED,
    TemplateStatus.REJECTED,
    TemplateStatus.PAUSED,
    TemplateStatus.DISABLED,
    TemplateStatus.ARCHIVED,
)
# Content can change only while Meta does not hold a live copy of it.
REVISABLE_STATUSES = (TemplateStatus.DRAFT, TemplateStatus.REJECTED)
# A send may use only these.
SENDABLE_STATUSES = (TemplateStatus.APPROVED,)


def _meta_sources(target: str) -> list[str]:
    """Meta's word is final: whatever it reports is applied from any state but the target,
    because a lost webhook or a sync between events can skip any step in between."""
    return [s for s in (TemplateStatus.DRAFT, *AT_META_STATUSES) if s != target]


template_name_validator = RegexValidator(
    r"^[a-z0-9_]{1,512}$", "Meta allows lowercase letters, digits and underscores only."
)
language_validator = RegexValidator(
    r"^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$", "A Meta language code such as en_US, ar or pt_BR."
)


class Template(models.Model):
    """One template name in one language on one business account."""

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.PROTECT, related_name="templates")
    name = models.CharField(max_length=512, validators=[template_name_validator])
    language = models.CharField(max_length=15, validators=[language_validator])
    category = models.CharField(max_length=20, choices=TemplateCategory.choices)
    # Set by an impending category notice: what Meta will change the category to.
    category_pending = models.CharField(max_length=20, choices=TemplateCategory.choices, blank=True)
    # Changed only by the transitions below, through the services that record them.
    status = FSMField(default=TemplateStatus.DRAFT, choices=TemplateStatus.choices)
    # When Meta's word on each aspect was last taken (event time or sync time), in
    # whole seconds as Meta's webhooks carry them: an older event changes nothing.
    status_at = models.DateTimeField(null=True, blank=True)
    quality_at = models.DateTimeField(null=True, blank=True)
    category_at = models.DateTimeField(null=True, blank=True)
    components_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    quality = models.CharField(max_length=10, choices=TemplateQuality.choices, default=TemplateQuality.UNKNOWN)
    meta_template_id = models.CharField(
        "Meta template id", max_length=64, blank=True, db_index=True, help_text="Of the version Meta holds now."
    )
    current_version = models.ForeignKey(
        "TemplateVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set while our create call is out, so two clicks cannot submit twice.
    submit_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="The last Graph API error of a submit or sync.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    purposes = models.ManyToManyField("Purpose", through="PurposeTemplate", related_name="templates", blank=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_account", "name", "language"], name="template_unique_name_language"
            )
        ]

    def __str__(self):
        return f"{self.name} [{self.language}]"

    # --- transitions: our own -------------------------------------------------------

    @transition(field=status, source=TemplateStatus.DRAFT, target=TemplateStatus.SUBMITTED)
    def submit(self):
        """Our create call was answered: Meta reviews it now."""
        self.last_error = ""

    @transition(field=status, source=list(REVISABLE_STATUSES), target=TemplateStatus.DRAFT)
    def revise(self):
        """New content after a rejection (or for a draft): back to draft for a new submit.

        meta_template_id stays: the rejected copy still holds the name at Meta, and the
        next submit deletes it first.
        """
        self.rejection_reason = ""

    # --- transitions: what Meta reports ----------------------------------------------

    @transition(field=status, source=_meta_sources(TemplateStatus.SUBMITTED), target=TemplateStatus.SUBMITTED)
    def mark_in_review(self):
        """Meta lists it as pending, or an appeal is under way."""

    @transition(field=status, source=_meta_sources(TemplateStatus.APPROVED), target=TemplateStatus.APPROVED)
    def approve(self):
        """Review passed, a pause ended, an appeal was won, or it was unarchived."""
        self.rejection_reason = ""

    @transition(field=status, source=_meta_sources(TemplateStatus.REJECTED), target=TemplateStatus.REJECTED)
    def reject(self, reason: str = ""):
        self.rejection_reason = reason

    @transition(field=status, source=_meta_sources(TemplateStatus.PAUSED), target=TemplateStatus.PAUSED)
    def pause(self):
        """Low quality: Meta pauses it for hours, then approves it again or disables it."""

    @transition(field=status, source=_meta_sources(TemplateStatus.DISABLED), target=TemplateStatus.DISABLED)
    def disable(self):
        pass

    @transition(field=status, source=_meta_sources(TemplateStatus.ARCHIVED), target=TemplateStatus.ARCHIVED)
    def archive(self):
        pass

    @property
    def revising_rejected_copy(self) -> bool:
        """A revision in draft while Meta still holds the rejected copy (until the next
        submit deletes it): Meta's word on that copy is not about this content."""
        return self.status == TemplateStatus.DRAFT and bool(self.meta_template_id)

    @property
    def is_sendable(self) -> bool:
        return self.status in SENDABLE_STATUSES and self.current_version_id is not None


class TemplateVersion(models.Model):
    """The content of a template at one moment. An edit, here or at Meta, is a new version."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The Graph API's components list, as submitted to (or listed by) Meta.
    components = models.JSONField(default=list)
    # Declared parameters: see templates_lib.params for the shape.
    parameters = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=ChangeCause.choices, default=ChangeCause.STAFF)
    meta_template_id = models.CharField("Meta template id", max_length=64, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_unique_number")]

    def __str__(self):
        return f"{self.template} v{self.number}"


class TemplateStatusChange(StateChange):
    """One transition of a template's status: from, to, why, and when Meta said so (created_at)."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="status_changes")
    version = models.ForeignKey(TemplateVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    cause = models.CharField(max_length=16, choices=ChangeCause.choices)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "created_at", "id"]

    def __str__(self):
        return f"{self.template}: {self.from_state} -> {self.to_state} ({self.cause})"


class Purpose(models.Model):
    """Why a business-initiated message is sent; names an ordered chain of templates per account."""

    key = models.SlugField(max_length=64, unique=True, help_text="e.g. order_update, cart_recovery.")
    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=20, choices=TemplateCategory.choices, help_text="Templates of another category are skipped."
    )

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class PurposeTemplate(models.Model):
    """A link of a purpose's chain: the lower the position, the earlier it is tried."""

    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="links")
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="purpose_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["purpose", "template"], name="purpose_template_unique")]

    def __str__(self):
        return f"{self.purpose} #{self.position}: {self.template}"


class TemplateAccount(BusinessAccount):
    """Business accounts as the templates admin lists them (sync now, last sync)."""

    class Meta:
        proxy = True
        verbose_name = "template account"

    def __str__(self):
        return self.name


class TemplateSyncRun(models.Model):
    """One pull of an account's template list from the Graph API, with its outcome."""

    business_account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="template_syncs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    listed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.business_account} sync at {self.started_at:%Y-%m-%d %H:%M:%S}"
