"""campaign_transition: each transition from the statuses it allows, each recorded; a refused one writes nothing."""

import pytest

from campaigns.models import CampaignCause, CampaignStatus
from campaigns.services import CampaignTransitionRefused, campaign_transition
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db
S = CampaignStatus

ALLOWED = [
    ("schedule", S.DRAFT, S.SCHEDULED),
    ("start", S.DRAFT, S.RUNNING),
    ("start", S.SCHEDULED, S.RUNNING),
    ("pause", S.RUNNING, S.PAUSED),
    ("resume", S.PAUSED, S.RUNNING),
    ("complete", S.RUNNING, S.COMPLETED),
    ("cancel", S.DRAFT, S.CANCELLED),
    ("cancel", S.SCHEDULED, S.CANCELLED),
    ("cancel", S.RUNNING, S.CANCELLED),
    ("cancel", S.PAUSED, S.CANCELLED),
]


@pytest.mark.parametrize(("name", "source", "target"), ALLOWED)
def test_each_transition_changes_the_status_and_records_it(name, source, target, django_user_model):
    staff = django_user_model.objects.create_user("ops")
    campaign = CampaignFactory(status=source)
    changed = campaign_transition(campaign=campaign, name=name, cause=CampaignCause.STAFF, actor=staff, detail="why")
    assert changed.status == target
    campaign.refresh_from_db()
    assert campaign.status == target
    (change,) = campaign.changes.all()
    assert (change.transition, change.from_state, change.to_state) == (name, source, target)
    assert (change.cause, change.actor, change.detail) == ("staff", staff, "why")


def test_a_pause_keeps_its_reason_and_a_resume_clears_it():
    campaign = CampaignFactory(status=S.RUNNING)
    reason = "quality dropped to medium"
    paused = campaign_transition(campaign=campaign, name="pause", cause=CampaignCause.SAFETY, detail=reason)
    assert paused.paused_reason == reason
    resumed = campaign_transition(campaign=campaign, name="resume", cause=CampaignCause.STAFF)
    assert resumed.paused_reason == ""


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("pause", S.DRAFT),
        ("resume", S.RUNNING),
        ("complete", S.PAUSED),
        ("start", S.COMPLETED),
        ("cancel", S.CANCELLED),
    ],
)
def test_a_refused_transition_changes_nothing_and_writes_no_history(name, source):
    campaign = CampaignFactory(status=source)
    with pytest.raises(CampaignTransitionRefused):
        campaign_transition(campaign=campaign, name=name, cause=CampaignCause.STAFF)
    campaign.refresh_from_db()
    assert campaign.status == source
    assert not campaign.changes.exists()


@pytest.mark.parametrize("cause", [CampaignCause.SAFETY, CampaignCause.SYSTEM, CampaignCause.SCHEDULE])
def test_only_staff_or_the_api_resume_a_campaign(cause):
    campaign = CampaignFactory(status=S.PAUSED)
    with pytest.raises(CampaignTransitionRefused, match="only staff or the API"):
        campaign_transition(campaign=campaign, name="resume", cause=cause)
    assert not campaign.changes.exists()


def test_an_unknown_transition_is_refused():
    with pytest.raises(CampaignTransitionRefused):
        campaign_transition(campaign=CampaignFactory(), name="reopen", cause=CampaignCause.STAFF)
