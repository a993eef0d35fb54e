"""The health of each number: Meta's quality rating, throughput and messaging limit.

Beat polls every number; quality webhooks update it between polls. A drop in
quality or limit raises an alert, a recovery resolves it.
"""

import logging
from datetime import datetime

from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve
from waco.channels import selectors as channel_selectors
from waco.channels import services as channels
from waco.channels.models import PhoneNumber, QualityRating
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import GraphError

logger = logging.getLogger(__name__)

ALERT_KIND = "number_quality"
# Webhook events that mean "worse" and "better" (DOWNGRADE and UPGRADE are unconfirmed names).
WORSE_EVENTS = {"FLAGGED", "DOWNGRADE"}
BETTER_EVENTS = {"UNFLAGGED", "UPGRADE"}


def numbers_poll_health(*, now: datetime) -> dict[str, list[str]]:
    """Beat: read every active number's fields from the Graph API and record them."""
    report = {}
    for number in PhoneNumber.objects.select_related("business_account"):
        client = GraphClient(access_token=number.business_account.access_token)
        try:
            info = client.get_phone_number(number.graph_id)
        except GraphError as error:
            logger.warning("polling %s failed: %s", number, error)
            report[number.graph_id] = [f"poll failed: {error}"]
            continue
        changes = channels.phone_number_record_health(
            phone_number=number,
            quality_rating=info.quality_rating,
            throughput_level=info.throughput_level,
            messaging_limit_tier=info.messaging_limit_tier,
            now=now,
        )
        _alert_on_quality(number)
        report[number.graph_id] = changes
    return report


def quality_event_apply(*, event, now: datetime) -> None:
    number = channel_selectors.phone_number_by_display(
        waba_id=event.waba_id, display_phone_number=event.display_phone_number
    )
    subject = str(number) if number else f"number {event.display_phone_number}"
    if number and event.current_limit:
        channels.phone_number_record_health(
            phone_number=number,
            quality_rating=None,
            throughput_level=None,
            messaging_limit_tier=event.current_limit,
            now=now,
        )
    if event.event in WORSE_EVENTS:
        alert_raise(
            kind=ALERT_KIND,
            subject=subject,
            severity=AlertSeverity.CRITICAL,
            detail=f"Meta: {event.event} (limit {event.old_limit} -> {event.current_limit})",
        )
    elif event.event in BETTER_EVENTS:
        alert_resolve(kind=ALERT_KIND, subject=subject)


def _alert_on_quality(number: PhoneNumber) -> None:
    if number.quality_rating == QualityRating.RED:
        alert_raise(
            kind=ALERT_KIND,
            subject=str(number),
            severity=AlertSeverity.CRITICAL,
            detail="Quality rating is RED: Meta may lower the messaging limit.",
        )
    elif number.quality_rating == QualityRating.GREEN:
        alert_resolve(kind=ALERT_KIND, subject=str(number))
