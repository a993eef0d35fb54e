"""A status button, pressed by staff in the admin or by the merchant's systems through the API.

One place for what pressing it means: a start checks the audience can be expanded before anything
changes; the transition goes through campaigns.services.campaign_transition; a start or a resume then
rings a worker after commit, since expanding and sending are a worker's job, never the request's; a resume
resolves the campaign's safety alert.
(Not in campaigns.services: the ring is a task, and the tasks module imports the services.)
"""

from django.db import transaction

from campaigns.expansion import expansion_check
from campaigns.models import Campaign
from campaigns.safety import safety_alert_resolve
from campaigns.services import campaign_transition
from campaigns.tasks import campaign_send_ring


def campaign_press(*, campaign: Campaign, name: str, cause: str, actor=None, detail: str = "") -> Campaign:
    """Apply one status button; raises CampaignTransitionRefused or ValidationError with nothing changed."""
    if name == "start":
        expansion_check(campaign)  # a CSV not uploaded or a bad segment: refused before anything changes
    updated = campaign_transition(campaign=campaign, name=name, cause=cause, actor=actor, detail=detail)
    if name == "resume":
        safety_alert_resolve(updated)  # whoever resumed it has dealt with why it paused
    if name in ("start", "resume"):
        transaction.on_commit(lambda: campaign_send_ring(updated.pk))
    return updated
