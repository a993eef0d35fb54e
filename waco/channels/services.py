"""Operations on business accounts and phone numbers, callable without HTTP or Celery."""

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from waco.channels.models import BusinessAccount, MessagingLimitTier, PhoneNumber, QualityRating


def business_account_create(
    *,
    name: str,
    waba_id: str,
    access_token: str,
    messaging_limit_tier: str = MessagingLimitTier.TIER_250,
) -> BusinessAccount:
    account = BusinessAccount(
        name=name,
        waba_id=waba_id,
        access_token=access_token,
        messaging_limit_tier=messaging_limit_tier,
    )
    account.full_clean()
    account.save()
    return account


# Sent after commit when a number may send again: kwargs phone_number.
phone_number_resumed = Signal()
# The send path pauses a number with a reason starting so when the token stops working.
AUTH_PAUSE_PREFIX = "Graph auth error"


@transaction.atomic
def business_account_rotate_token(*, business_account: BusinessAccount, access_token: str) -> int:
    """Store a new token and resume the numbers an auth error paused; returns how many."""
    if not access_token.strip():
        raise ValueError("an access token cannot be empty")
    business_account.access_token = access_token.strip()
    business_account.save(update_fields=["access_token", "access_token_last4", "updated_at"])
    paused_for_auth = business_account.phone_numbers.filter(
        sending_paused=True, sending_paused_reason__startswith=AUTH_PAUSE_PREFIX
    )
    return sum(phone_number_resume_sending(phone_number=number) for number in paused_for_auth)


def phone_number_create(
    *,
    business_account: BusinessAccount,
    graph_id: str,
    display_phone_number: str,
    verified_name: str = "",
    throughput_mps: int = 80,
) -> PhoneNumber:
    number = PhoneNumber(
        business_account=business_account,
        graph_id=graph_id,
        display_phone_number=display_phone_number,
        verified_name=verified_name,
        throughput_mps=throughput_mps,
    )
    number.full_clean()
    number.save()
    return number


@transaction.atomic
def phone_number_pause_sending(*, phone_number: PhoneNumber, reason: str) -> bool:
    """Stop all sends from this number (an expired token, an integrity error, staff).

    Returns False when it was already paused; the first reason is kept.
    """
    locked = PhoneNumber.objects.select_for_update().get(pk=phone_number.pk)
    if locked.sending_paused:
        return False
    locked.sending_paused = True
    locked.sending_paused_reason = reason
    locked.sending_paused_at = timezone.now()
    locked.save(update_fields=["sending_paused", "sending_paused_reason", "sending_paused_at", "updated_at"])
    phone_number.refresh_from_db()
    return True


@transaction.atomic
def phone_number_resume_sending(*, phone_number: PhoneNumber) -> bool:
    locked = PhoneNumber.objects.select_for_update().get(pk=phone_number.pk)
    if not locked.sending_paused:
        return False
    locked.sending_paused = False
    locked.sending_paused_reason = ""
    locked.sending_paused_at = None
    locked.save(update_fields=["sending_paused", "sending_paused_reason", "sending_paused_at", "updated_at"])
    phone_number.refresh_from_db()
    transaction.on_commit(lambda: phone_number_resumed.send(sender=PhoneNumber, phone_number=locked))
    return True


# Meta's throughput levels; HIGH is the automatic upgrade to 1,000 messages/s.
THROUGHPUT_BY_LEVEL = {"STANDARD": 80, "HIGH": 1000}


@transaction.atomic
def phone_number_record_health(
    *,
    phone_number: PhoneNumber,
    quality_rating: str | None,
    throughput_level: str | None,
    messaging_limit_tier: str | None,
    now,
) -> list[str]:
    """Store what Meta reports of a number (a poll or a webhook); returns what changed."""
    number = PhoneNumber.objects.select_for_update().get(pk=phone_number.pk)
    account = BusinessAccount.objects.select_for_update().get(pk=number.business_account_id)
    changes = []
    if quality_rating in QualityRating.values and quality_rating != number.quality_rating:
        changes.append(f"quality {number.quality_rating} -> {quality_rating}")
        number.quality_rating = quality_rating
    throughput = THROUGHPUT_BY_LEVEL.get(throughput_level or "")
    if throughput and throughput != number.throughput_mps:
        changes.append(f"throughput {number.throughput_mps}/s -> {throughput}/s")
        number.throughput_mps = throughput
    if messaging_limit_tier in MessagingLimitTier.values and messaging_limit_tier != account.messaging_limit_tier:
        changes.append(f"messaging limit {account.messaging_limit_tier} -> {messaging_limit_tier}")
        account.messaging_limit_tier = messaging_limit_tier
        account.save(update_fields=["messaging_limit_tier", "updated_at"])
    number.quality_checked_at = now
    number.save(update_fields=["quality_rating", "throughput_mps", "quality_checked_at", "updated_at"])
    phone_number.refresh_from_db()
    return changes
