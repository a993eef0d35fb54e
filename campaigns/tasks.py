"""Campaigns' Celery entry points: beat's tick, and a worker's turn at one campaign (campaigns.sending)."""

from celery import shared_task
from django.utils import timezone

from campaigns import outcomes, sending
from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_MARKETING
from waco.doorbell import doorbell_ring


@shared_task(name="campaigns.tick", queue=QUEUE_MAINTENANCE)
def tick() -> None:
    """Beat: start the scheduled campaigns whose time has come, and ring a send for each running one."""
    sending.campaigns_start_due(now=timezone.now())
    for campaign_id in sending.campaigns_running():
        # At most one send waits per campaign: the doorbell; a running turn holds it.
        campaign_send_ring(campaign_id)


@shared_task(name="campaigns.count_outcomes", queue=QUEUE_MAINTENANCE)
def count_outcomes() -> int:
    """Beat: the recipients follow their messages, and the totals are counted (campaigns.outcomes)."""
    return outcomes.count_outcomes()


@shared_task(name="campaigns.send_campaign", queue=QUEUE_MARKETING)
def send_campaign(campaign_id: int) -> None:
    """Expand what is left of one campaign and hand its due recipients to the outbox, paced."""
    sending.campaign_run(campaign_id=campaign_id)


def campaign_send_ring(campaign_id: int) -> None:
    """Ask a worker for a turn at the campaign now (a start, a resume), rather than at beat's next tick."""
    doorbell_ring(key=sending.doorbell_key(campaign_id), task=send_campaign.s(campaign_id).set(queue=QUEUE_MARKETING))
