"""The typed events one webhook delivery splits into.

Every event has a `kind` (the handler dispatch key), a `dedupe_key` that is the
same every time Meta redelivers the same body, the WABA id of its entry, the
`phone_number_id` it concerns (None for account-level events) and the `raw`
item it was read from, for storage.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from waco.cloud_api.errors import ErrorDetail
from waco.cloud_api.messages import Context, MessageContent, Referral
from waco.cloud_api.values import content_hash


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    kind: ClassVar[str] = ""
    waba_id: str | None = None  # entry[].id
    change_field: str | None = None  # changes[].field
    entry_time: datetime | None = None  # entry[].time, when Meta sends it
    phone_number_id: str | None = None  # metadata.phone_number_id; None for account-level events
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def dedupe_key(self) -> str:
        """Subclasses key on Meta's ids; this content-based key is the fallback."""
        return f"{self.kind or 'event'}:" + content_hash(self.waba_id, self.change_field, self.raw)

    def _time_or_hash(self) -> str:
        """The entry time identifies account-level events; without it, their content does."""
        if self.entry_time is not None:
            return str(int(self.entry_time.timestamp()))
        return "h" + content_hash(self.waba_id, self.change_field, self.raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """A WhatsApp user as Meta names them: by phone (wa_id), by business-scoped
    user id (user_id, for users with usernames), or both. Never assume wa_id."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    name: str | None = None


# --- messages field ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent(Event):
    kind: ClassVar[str] = "message"
    message_id: str  # the wamid
    display_phone_number: str | None = None
    type: str | None = None  # the message's `type` as sent
    timestamp: datetime | None = None
    sender: Identity = field(default_factory=Identity)
    context: Context | None = None
    referral: Referral | None = None
    content: MessageContent
    errors: tuple[ErrorDetail, ...] = ()  # set on Meta's `unsupported` messages

    @property
    def dedupe_key(self) -> str:
        return f"message:{self.message_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pricing:
    billable: bool | None = None
    pricing_model: str | None = None  # PMP since 2025-07-01; CBP before
    type: str | None = None  # regular, free_customer_service, free_entry_point
    category: str | None = None  # marketing, utility, authentication, service, ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """Absent from v24.0 on; kept for older versions and fixtures."""

    id: str | None = None
    expires_at: datetime | None = None
    origin_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent(Event):
    kind: ClassVar[str] = "status"
    message_id: str  # the wamid our send got back
    status: str  # sent, delivered, read, failed, played
    display_phone_number: str | None = None
    timestamp: datetime | None = None
    recipient: Identity = field(default_factory=Identity)
    recipient_type: str | None = None  # "group" for group sends; usually absent
    biz_opaque_callback_data: str | None = None  # what our send set: our message id
    errors: tuple[ErrorDetail, ...] = ()  # on failed
    pricing: Pricing | None = None
    conversation: Conversation | None = None

    @property
    def dedupe_key(self) -> str:
        return f"status:{self.message_id}:{self.status}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageErrorEvent(Event):
    """One item of a change's value-level `errors[]` (messages or calls field)."""

    kind: ClassVar[str] = "message_error"
    error: ErrorDetail
    index: int = 0
    display_phone_number: str | None = None
    value_hash: str = ""  # digest of the whole change value: no id to key on

    @property
    def dedupe_key(self) -> str:
        return f"message_error:{self.value_hash}:{self.index}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEchoEvent(Event):
    """A message the business sent from the WhatsApp Business app (smb_message_echoes)."""

    kind: ClassVar[str] = "message_echo"
    message_id: str
    display_phone_number: str | None = None
    type: str | None = None
    timestamp: datetime | None = None
    from_: str | None = None  # the business number
    to: Identity = field(default_factory=Identity)
    content: MessageContent

    @property
    def dedupe_key(self) -> str:
        return f"message_echo:{self.message_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserPreferenceEvent(Event):
    """A customer stopped or resumed marketing from inside WhatsApp (user_preferences)."""

    kind: ClassVar[str] = "user_preferences"
    user: Identity = field(default_factory=Identity)
    display_phone_number: str | None = None
    category: str | None = None  # marketing_messages
    value: str | None = None  # stop, resume, signup
    detail: str | None = None
    timestamp: datetime | None = None
    signup_id: str | None = None

    @property
    def dedupe_key(self) -> str:
        who = self.user.wa_id or self.user.user_id
        when = str(int(self.timestamp.timestamp())) if self.timestamp else self._time_or_hash()
        return f"user_preferences:{self.phone_number_id}:{who}:{self.category}:{self.value}:{when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """A Calling API event (calls field): connect, terminate, or a call status."""

    kind: ClassVar[str] = "call"
    call_id: str
    event: str | None = None  # connect, terminate; "status" for statuses[] items
    status: str | None = None
    direction: str | None = None
    from_: str | None = None
    to: str | None = None
    timestamp: datetime | None = None
    duration: int | None = None
    biz_opaque_callback_data: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"call:{self.call_id}:{self.event or ''}:{self.status or ''}"


# --- templates ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateEvent(Event):
    """Fields every template webhook carries. Template ids arrive as numbers; kept as str."""

    template_id: str
    template_name: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateStatusEvent(TemplateEvent):
    kind: ClassVar[str] = "template_status"
    event: str  # APPROVED, REJECTED, PAUSED, DISABLED, ARCHIVED, UNARCHIVED, ...
    reason: str | None = None
    category: str | None = None
    rejection_detail: str | None = None  # rejection_info.reason
    disable_date: datetime | None = None

    @property
    def dedupe_key(self) -> str:
        return f"template_status:{self.template_id}:{self.event}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateQualityEvent(TemplateEvent):
    kind: ClassVar[str] = "template_quality"
    previous_quality_score: str | None = None
    new_quality_score: str  # GREEN, YELLOW, RED, UNKNOWN

    @property
    def dedupe_key(self) -> str:
        score = self.new_quality_score
        return f"template_quality:{self.template_id}:{score}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateButton:
    type: str | None = None
    text: str | None = None
    url: str | None = None
    phone_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateComponentsEvent(TemplateEvent):
    kind: ClassVar[str] = "template_components"
    title: str | None = None  # header text
    body: str | None = None  # message_template_element
    footer: str | None = None
    buttons: tuple[TemplateButton, ...] = ()

    @property
    def dedupe_key(self) -> str:
        return f"template_components:{self.template_id}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateCategoryEvent(TemplateEvent):
    kind: ClassVar[str] = "template_category"
    previous_category: str | None = None
    new_category: str
    correct_category: str | None = None  # set on the impending notice, before the change

    @property
    def impending(self) -> bool:
        return self.correct_category is not None and self.previous_category is None

    @property
    def dedupe_key(self) -> str:
        return f"template_category:{self.template_id}:{self.new_category}:{self._time_or_hash()}"


# --- phone numbers and account ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberQualityEvent(Event):
    """Throughput or messaging-limit change. Names the number by display number only."""

    kind: ClassVar[str] = "phone_number_quality"
    display_phone_number: str | None = None
    event: str  # FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, THROUGHPUT_UPGRADE, ...
    current_limit: str | None = None
    old_limit: str | None = None
    max_daily_conversations_per_business: str | None = None

    @property
    def dedupe_key(self) -> str:
        number = self.display_phone_number
        return f"phone_number_quality:{number}:{self.event}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberNameEvent(Event):
    kind: ClassVar[str] = "phone_number_name"
    display_phone_number: str | None = None
    decision: str  # APPROVED, DEFERRED, PENDING, REJECTED
    requested_verified_name: str | None = None
    rejection_reason: str | None = None

    @property
    def dedupe_key(self) -> str:
        number = self.display_phone_number
        return f"phone_number_name:{number}:{self.decision}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateEvent(Event):
    """account_update: bans, restrictions, violations, partner changes. Details stay in raw."""

    kind: ClassVar[str] = "account_update"
    event: str

    @property
    def dedupe_key(self) -> str:
        return f"account_update:{self.waba_id}:{self.event}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountReviewEvent(Event):
    kind: ClassVar[str] = "account_review"
    decision: str

    @property
    def dedupe_key(self) -> str:
        return f"account_review:{self.waba_id}:{self.decision}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountAlertEvent(Event):
    kind: ClassVar[str] = "account_alert"
    entity_type: str | None = None  # BUSINESS, PHONE_NUMBER, ...
    entity_id: str | None = None
    alert_severity: str | None = None
    alert_status: str | None = None
    alert_type: str
    alert_description: str | None = None

    @property
    def dedupe_key(self) -> str:
        parts = f"{self.entity_id}:{self.alert_type}:{self.alert_status}"
        return f"account_alert:{parts}:{self._time_or_hash()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessCapabilityEvent(Event):
    """Portfolio limits. -1 means unlimited; the per-phone figure is being retired by Meta."""

    kind: ClassVar[str] = "business_capability"
    max_daily_conversation_per_phone: int | None = None
    max_daily_conversations_per_business: int | None = None
    max_phone_numbers_per_business: int | None = None
    max_phone_numbers_per_waba: int | None = None

    @property
    def dedupe_key(self) -> str:
        return f"business_capability:{self.waba_id}:{self._time_or_hash()}"


# --- everything else ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedEvent(Event):
    """A field or item docs/cloud-api.md does not list, or one of the wrong shape: stored, ignored."""

    kind: ClassVar[str] = "unsupported"
    reason: str

    @property
    def dedupe_key(self) -> str:
        when = self.entry_time.isoformat() if self.entry_time else None
        return f"unsupported:{content_hash(self.waba_id, self.change_field, when, self.raw)}"


EVENT_TYPES: tuple[type[Event], ...] = (
    MessageEvent,
    StatusEvent,
    MessageErrorEvent,
    MessageEchoEvent,
    UserPreferenceEvent,
    CallEvent,
    TemplateStatusEvent,
    TemplateQualityEvent,
    TemplateComponentsEvent,
    TemplateCategoryEvent,
    PhoneNumberQualityEvent,
    PhoneNumberNameEvent,
    AccountUpdateEvent,
    AccountReviewEvent,
    AccountAlertEvent,
    BusinessCapabilityEvent,
    UnsupportedEvent,
)
EVENT_KINDS: frozenset[str] = frozenset(cls.kind for cls in EVENT_TYPES)
