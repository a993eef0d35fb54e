"""A shop's data for walking the admin: every registered model has rows, and the rows include the
empty and partial cases the pages must survive (a contact with no window or consent, an order with
no line or payment link, a thread with no message, an account with no number, a draft template with
no version, a failed message with no attempt...), plus the staff of each seeded role.

The secrets planted here (an access token, a password) must never appear on an admin page.
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, SolarSchedule

from campaigns.models import CampaignChange, RecipientStatus, SkipReason
from catalog.demo_data import demo_catalog_seed
from catalog.models import MetaPush, Product
from checkout.models import LinkStatus, OrderChange, Refund
from conversations.models import Direction, Keyword, QuickReply, ThreadMessage, ThreadNote, ThreadState
from conversations.services import thread_message_record_inbound
from outbound.attachments import attachment_store
from outbound.models import CountryPricingMarket, MessageStatus, PriceRate, SendAttempt
from templates_lib.models import Template, TemplateStatusChange, TemplateSyncRun
from tests.campaigns.factories import CampaignFactory, CampaignRecipientFactory
from tests.catalog.factories import FeedSourceFactory, ShopFactory
from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.checkout.factories import OrderFactory, paid_order
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import InboundMediaFactory, ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.templates_lib.factories import PurposeTemplateFactory, TemplateFactory
from waco.alerts.models import Alert
from waco.api.keys import key_create, key_revoke
from waco.api.models import ApiAudit
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource, ContactAlias
from waco.events import models as events
from waco.ingest.models import Delivery, InboxEvent
from waco.roles import ROLES
from waco.sandbox import models as sandbox
from waco.sandbox.graph.media import placeholder

ACCESS_TOKEN = "EAAG-planted-secret-token-0123456789-never-shown"
# A webhook endpoint's signing secret and the one it rotated from: shown once when made, never on a page.
WEBHOOK_SECRETS = [
    "whsec_cGxhbnRlZC1zaWduaW5nLXNlY3JldC1uZXZlci1zaG93bg==",
    "whsec_b2xkLXBsYW50ZWQtc2VjcmV0LW5ldmVyLXNob3du",
]
PASSWORD = "planted-password-never-shown-42"
VIEW_ONLY = "view-only"


def staff_users() -> dict[str, User]:
    """A superuser, one user per seeded role group, and a user who may view everything and change nothing."""
    users = {"superuser": User.objects.create_superuser("root", password=PASSWORD)}
    for role in ROLES:
        user = User.objects.create_user(role.group.lower().replace(" ", "-"), password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role.group))
        users[role.group] = user
    viewer = User.objects.create_user(VIEW_ONLY, password=PASSWORD, is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    users[VIEW_ONLY] = viewer
    return users


def shop_world() -> dict:
    now = timezone.now()
    account = BusinessAccountFactory(access_token=ACCESS_TOKEN)
    BusinessAccountFactory(name="No numbers yet")  # partial: an account with no phone number
    number = PhoneNumberFactory(business_account=account)

    # Contacts: one with nothing attached, one with a window and a ledger, one known by BSUID only.
    bare = ContactFactory(profile_name="No window, no consent")
    full = ContactFactory(profile_name="Amal", name="Amal M.", tags=["vip"], attributes={"tier": "gold"})
    ContactAlias.objects.create(wa_id="5511987654321", contact=full, wamid="wamid.alias")  # Meta knows it otherwise
    contacts.window_touch(contact=full, phone_number=number, inbound_at=now - timedelta(hours=1))
    contacts.consent_record(
        contact=full,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.THREAD,
        recorded_at=now - timedelta(days=2),
    )
    contacts.consent_record(
        contact=full,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.WHATSAPP,
        recorded_at=now - timedelta(days=1),
    )
    ContactFactory(wa_id=None, user_id="US.13491208655302741918", profile_name="")

    # Catalog: the demo shop, a product with no variant, a feed, a Meta push.
    demo_catalog_seed(business_account=account)
    ShopFactory(business_account=account)
    Product.objects.create(
        business_account=account,
        category=Product.objects.first().category,
        external_id="NO-VARIANTS",
        name="A product with no variant",
    )
    FeedSourceFactory(business_account=account)
    MetaPush.objects.create(business_account=account, attempted_at=now)

    # Orders: one with no line and no link, one paid with a refund, one whose link expired.
    OrderFactory(contact=bare, phone_number=number, line=None)
    paid = paid_order(phone_number=number)
    link = paid.payment_links.get()
    Refund.objects.create(
        order=paid,
        payment_link=link,
        amount_minor=100_00,
        currency=paid.currency,
        idempotency_key=f"refund-{paid.pk}-1",
    )
    OrderChange.objects.create(
        order=paid, transition="pay", from_state="pending_payment", to_state="paid", cause="payment", created_at=now
    )
    expired = OrderFactory(phone_number=number)
    expired.payment_links.create(
        attempt=1,
        token="expired-link-token",
        idempotency_key="expired-link",
        status=LinkStatus.EXPIRED,
        expires_at=now - timedelta(minutes=1),
    )

    # Threads: one with no message; one with text, a staff message and a media still downloading.
    ThreadFactory(contact=bare, phone_number=number)
    thread = ThreadFactory(contact=full, phone_number=number)
    ThreadMessageFactory(thread=thread)
    InboundMediaFactory(
        message=ThreadMessageFactory(thread=thread, type="image", text="[image]", payload={"type": "image"})
    )
    # A photo staff sent: its file is served to those who may read the thread.
    photo, _ = attachment_store(phone_number=number, upload=SimpleUploadedFile("abaya.png", placeholder("image")[0]))
    ThreadMessageFactory(
        thread=thread,
        direction=Direction.OUTBOUND,
        wamid=None,
        type="image",
        text="[image: abaya.png]",
        outbound=OutboundMessageFactory(
            phone_number=number, contact=full, media=photo, content={"type": "image", "image": {}}
        ),
    )
    ThreadNote.objects.create(thread=thread, text="Internal: the customer is a wholesaler")  # author left
    QuickReply.objects.create(
        business_account=account, title="Order status", text="Hi {name}, {last_order} is on its way."
    )
    # The inbox: a customer waiting for a person nobody has yet; a thread with a person and no message
    # (staff took it before anyone wrote); one a staff member has and handed back (resolved).
    waiting = ThreadFactory(state=ThreadState.HANDOFF, contact__profile_name="", phone_number=number)
    thread_message_record_inbound(
        thread=waiting, wamid="wamid.walk-inbox", type="text", text="مرحبا\nis anyone there?", payload={}, sent_at=now
    )
    assignee = User.objects.create_user("walk-assignee", is_staff=True)
    ThreadFactory(state=ThreadState.HANDOFF, assigned_to=assignee, phone_number=number)
    ThreadFactory(
        assigned_to=assignee, resolved_at=now, phone_number=number, contact__wa_id=None, contact__user_id="US.1"
    )
    Keyword.objects.get_or_create(
        word="walkthrough", defaults={"intent": Keyword._meta.get_field("intent").choices[0][0]}
    )

    # The outbox: a failed message about its thread with an attempt, a queued one with neither.
    failed = OutboundMessageFactory(
        phone_number=number,
        contact=full,
        status=MessageStatus.FAILED,
        needs_person=True,
        error_code=131047,
        subject_type="thread",
        subject_id=thread.pk,
    )
    SendAttempt.objects.create(
        message=failed, started_at=now, outcome=SendAttempt._meta.get_field("outcome").choices[0][0]
    )
    ThreadMessage.objects.create(
        thread=thread, direction="out", type="text", text="hello", payload={}, sent_at=now, outbound=failed
    )
    OutboundMessageFactory(phone_number=number, contact=bare)
    # The price tables (seeded by a migration, emptied by transactional tests): a tier above the list rate, a move.
    PriceRate.objects.create(
        market="Walkthrough", category="utility", effective_from=now.date(), tier_from=1000, rate=1
    )
    CountryPricingMarket.objects.create(country_code="ZZ", market="Walkthrough", effective_from=now.date())

    # Templates: approved in a purpose's chain, a draft with no version, a sync run, a status change.
    approved = TemplateFactory(business_account=account)
    PurposeTemplateFactory(template=approved)
    Template.objects.create(business_account=account, name="draft_without_version", language="en", category="utility")
    TemplateSyncRun.objects.create(business_account=account, started_at=now)
    TemplateStatusChange.objects.create(
        template=approved,
        from_state="PENDING",
        to_state="APPROVED",
        created_at=now,
        cause=TemplateStatusChange._meta.get_field("cause").choices[0][0],
    )

    # Ingest: a delivery with an event, one with none.
    delivery = Delivery.objects.create(
        source="meta", body='{"object": "whatsapp_business_account"}', headers={}, received_at=now, next_attempt_at=now
    )
    InboxEvent.objects.create(
        source="meta",
        dedupe_key="walk:1",
        kind="message",
        delivery=delivery,
        outcome=InboxEvent._meta.get_field("outcome").choices[0][0],
    )
    Delivery.objects.create(source="stripe", body="not json", headers={}, received_at=now, next_attempt_at=now)

    Alert.objects.create(
        kind="walk", severity=Alert._meta.get_field("severity").choices[0][0], subject="A number", opened_at=now
    )
    _sandbox_rows(now)
    _beat_and_axes_rows(now)
    _api_rows(now, account)
    _event_rows(now, account)
    _campaign_rows(now, number, contacts=[bare, full], order=paid)
    return {
        "account": account,
        "number": number,
        "bare_contact": bare,
        "contact": full,
        "paid_order": paid,
        "thread": thread,
        "failed_message": failed,
    }


def _sandbox_rows(now) -> None:
    meta_account = sandbox.BusinessAccount.objects.create(waba_id="300000000000001", access_token=ACCESS_TOKEN)
    meta_number = sandbox.PhoneNumber.objects.create(
        account=meta_account, phone_number_id="100000000000999", display_phone_number="+971 50 000 0999"
    )
    sandbox.SentMessage.objects.create(
        wamid="wamid.walk", number=meta_number, to="971500000001", body="{}", category="service", created_at=now
    )
    sandbox.Template.objects.create(
        account=meta_account,
        template_id="1",
        name="walk",
        language="en",
        category="UTILITY",
        status="PENDING",
        review_outcome="APPROVED",
        review_due_at=now,
    )
    sandbox.Delivery.objects.create(kind="message", body="{}", next_attempt_at=now)
    sandbox.SandboxConfig.objects.get_or_create(pk=1, defaults={"generation": "walk"})
    sandbox.StripeCheckoutSession.objects.create(
        session_id="cs_test_walk",
        status="open",
        payment_status="unpaid",
        mode="payment",
        currency="aed",
        amount_total=100,
        line_items=[],
        success_url="https://example.test/ok",
        expires_at=now,
        created_at=now,
    )
    sandbox.StripeEvent.objects.create(event_id="evt_walk", type="checkout.session.completed", body={}, created_at=now)


def _beat_and_axes_rows(now) -> None:
    ClockedSchedule.objects.create(clocked_time=now)
    CrontabSchedule.objects.create(minute="0", hour="3")
    SolarSchedule.objects.create(event="sunrise", latitude=25.2, longitude=55.3)
    AccessAttempt.objects.create(
        username="someone",
        ip_address="203.0.113.9",
        user_agent="walk",
        attempt_time=now,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/admin/login/",
        failures_since_start=1,
    )
    AccessLog.objects.create(
        username="root",
        ip_address="203.0.113.9",
        user_agent="walk",
        attempt_time=now,
        http_accept="",
        path_info="/admin/login/",
    )
    AccessFailureLog.objects.create(
        username="someone",
        ip_address="203.0.113.9",
        user_agent="walk",
        attempt_time=now,
        http_accept="",
        path_info="/admin/login/",
        locked_out=False,
    )


def _api_rows(now, account) -> None:
    """API keys: one for every account (used, audited), one limited to an account, a revoked one, an expired one."""
    full, _ = key_create(name="Storefront", scopes=["catalog:read", "catalog:write", "orders:read"])
    full.last_used_at = now
    full.save(update_fields=["last_used_at"])
    ApiAudit.objects.create(key=full, method="PUT", path="/api/v1/products/SKU-1", status=200, created_at=now)
    key_create(name="One account", scopes=["orders:read"], waba_ids=[account.waba_id])
    key_revoke(key_create(name="Revoked", scopes=["catalog:read"])[0].prefix)
    key_create(name="Expired", scopes=["catalog:read"], expires_at=now - timedelta(days=1))


def _event_rows(now, account) -> None:
    """An endpoint mid-rotation with an event delivered, retried and lost mid-post; one with nothing; an event
    no endpoint took."""
    endpoint = events.WebhookEndpoint.objects.create(
        url="https://shop.example/hooks/waco",
        event_types=[events.EventType.ORDER_PAID, events.EventType.STOCK_RELEASED],
        secret=WEBHOOK_SECRETS[0],
        previous_secret=WEBHOOK_SECRETS[1],
        previous_secret_expires_at=now + timedelta(hours=1),
        failing_since=now,
    )
    endpoint.business_accounts.set([account])
    events.WebhookEndpoint.objects.create(
        url="https://crm.example/in",
        event_types=[events.EventType.CONSENT_CHANGED],
        secret="whsec_d2Fsaw==",
        enabled=False,
        disabled_reason="every attempt failed since 2026-12-01 09:00 UTC",
    )
    paid = events.Event.objects.create(
        id="evt_01KBT7Q3M6V4R8X2N9JZC5HDEW",
        type=events.EventType.ORDER_PAID,
        subject="order:WALK1",
        sequence=1,
        data={"reference": "WALK1"},
        body='{"id":"evt_01KBT7Q3M6V4R8X2N9JZC5HDEW"}',
        business_account=account,
        created_at=now,
    )
    events.Event.objects.create(
        id="evt_01KBT7Q3M6V4R8X2N9JZC5HDEX",
        type=events.EventType.CONSENT_CHANGED,
        subject="contact:1",
        sequence=1,
        data={},
        body="{}",
        created_at=now,
    )
    delivery = events.Delivery.objects.create(
        event=paid, endpoint=endpoint, attempts=3, next_attempt_at=now, created_at=now, last_error="HTTP 500"
    )
    events.DeliveryAttempt.objects.create(
        delivery=delivery, started_at=now, finished_at=now, status_code=500, latency_ms=12, response_excerpt="oops"
    )
    events.DeliveryAttempt.objects.create(delivery=delivery, started_at=now, finished_at=now, error="ReadTimeoutError")
    events.DeliveryAttempt.objects.create(delivery=delivery, started_at=now)  # the worker died mid-post
    events.Delivery.objects.create(
        event=paid,
        endpoint=endpoint,
        replay=True,
        state=events.DeliveryState.DELIVERED,
        next_attempt_at=now,
        delivered_at=now,
        created_at=now,
    )


def _campaign_rows(now, number, *, contacts, order) -> None:
    """A paused campaign with its history and recipients (pending, skipped, ordered); a draft with none;
    a running one (its page polls its progress); a CSV draft (its preview cannot be counted yet)."""
    campaign = CampaignFactory(phone_number=number, status="paused", paused_reason="quality dropped to medium")
    CampaignChange.objects.create(
        campaign=campaign, transition="pause", from_state="running", to_state="paused", cause="safety", created_at=now
    )
    bare, full = contacts
    CampaignRecipientFactory(
        campaign=campaign, contact=bare, status=RecipientStatus.SKIPPED, skip_reason=SkipReason.NO_CONSENT
    )
    CampaignRecipientFactory(
        campaign=campaign,
        contact=full,
        status=RecipientStatus.ORDERED,
        params={"customer": "Amal"},
        order=order,
        revenue_minor=order.total_minor,
        cost="0.0384",
    )
    CampaignRecipientFactory(campaign=campaign, contact=order.contact)
    CampaignFactory(phone_number=number, name="A draft with no recipient")
    running = CampaignFactory(phone_number=number, name="Running", status="running", expansion_done=True)
    CampaignRecipientFactory(campaign=running, contact=full, status=RecipientStatus.DELIVERED)
    CampaignRecipientFactory(campaign=running, contact=bare)
    CampaignFactory(phone_number=number, name="A CSV draft (not expandable yet)", audience="csv")
