"""Campaigns: the audience expanded into recipient rows (campaigns.expansion).

`python -m bench campaign` seeds CONTACTS contacts (90% opted in to marketing, a few US numbers and
opted-out ones, so every kind of row is written) and expands a campaign to all of them:
1. the whole expansion: wall time, CPU of this process, and the peak of Python's allocations
   (tracemalloc), which stays flat as the audience grows (batches, never the whole list);
2. a second run: adds nobody;
3. killed halfway: a fresh campaign expanded for half its batches by a child process that is then
   SIGKILLed, and resumed here: every contact exactly once.
Goal (issue 19): 100,000 recipients in under 60 s with flat memory.

The sends (10,000 against the sandbox at a 1,000/s number and a 50% share) and the reply p99 beside
a running campaign are not measured here yet.
"""

import os
import signal
import subprocess
import sys
import time
import tracemalloc

from bench.common import REPO, fresh_database

DB_NAME = "waco_bench_campaign"
CONTACTS = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS", "100000"))
BATCH = 5000
GOAL_SECONDS = 60
WABA_ID, NUMBER_ID = "300000000000005", "300000000000500"
ENV = os.environ | {
    "WACO_ENV": "test",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"postgres://postgres:postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '11')}",
    "DJANGO_DEBUG": "false",
}
# A child that expands BATCHES batches of the campaign, then waits to be killed mid-way.
EXPAND_SOME = """
import django, sys; django.setup()
from campaigns import expansion
from campaigns.models import Campaign
campaign = Campaign.objects.get(pk=int(sys.argv[1]))
done = 0
real = expansion.decided_batches
def counted(*args, **kwargs):
    global done
    for batch in real(*args, **kwargs):
        if done == int(sys.argv[2]):
            print("halfway", flush=True)
            sys.stdin.read()  # killed here, between two batches' transactions
        done += 1
        yield batch
expansion.decided_batches = counted
expansion.campaign_expand(campaign=campaign, batch_size=int(sys.argv[3]))
"""


def django_setup() -> None:
    os.environ.update(ENV)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def seed():
    """The account, its number, an approved marketing template, and CONTACTS contacts with consent."""
    from django.utils import timezone

    from templates_lib.models import Template, TemplateCategory, TemplateStatus, TemplateVersion
    from waco.channels.services import business_account_create, phone_number_create
    from waco.contacts.models import ConsentAction, ConsentCategory, ConsentEntry, ConsentSource, Contact

    account = business_account_create(name="Bench Shop", waba_id=WABA_ID, access_token="bench-campaign-token")
    number = phone_number_create(
        business_account=account, graph_id=NUMBER_ID, display_phone_number="+971 50 999 0005", verified_name="Bench"
    )
    template = Template.objects.create(
        business_account=account,
        name="winter_sale",
        language="en_US",
        category=TemplateCategory.MARKETING,
        status=TemplateStatus.APPROVED,
        meta_template_id="1689556909000005",
    )
    template.current_version = TemplateVersion.objects.create(
        template=template,
        number=1,
        components=[{"type": "BODY", "text": "Hi {{1}}, the winter sale starts today: {{2}} off."}],
        parameters=[
            {"component": "body", "position": 1, "name": "customer", "type": "text"},
            {"component": "body", "position": 2, "name": "offer", "type": "text"},
        ],
    )
    template.save(update_fields=["current_version"])

    def wa_id(n: int) -> str:
        return f"1202555{n:04d}" if n % 50 == 0 else f"9715{n:08d}"  # 2% US numbers: no marketing there

    Contact.objects.bulk_create(
        [Contact(wa_id=wa_id(n), name=f"Customer {n}", attributes={"tier": "gold"}) for n in range(CONTACTS)],
        batch_size=5000,
    )
    now = timezone.now()
    entries = [
        ConsentEntry(
            contact_id=pk,
            category=ConsentCategory.MARKETING,
            action=ConsentAction.OPT_OUT if pk % 10 == 5 else ConsentAction.OPT_IN,
            source=ConsentSource.IMPORT,
            recorded_at=now,
        )
        for pk in Contact.objects.order_by("pk").values_list("pk", flat=True)
        if pk % 10  # a tenth never said: no consent
    ]
    ConsentEntry.objects.bulk_create(entries, batch_size=5000)
    return account, number, template


def campaign_new(account, number, template, name: str):
    from campaigns.services import campaign_create

    return campaign_create(
        business_account=account,
        phone_number=number,
        name=name,
        template=template,
        params={
            "customer": {"source": "field", "key": "name", "default": "there"},
            "offer": {"source": "constant", "value": "20%"},
        },
    )


def expand_measured(campaign) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak bytes allocated) of one whole expansion."""
    from campaigns.expansion import campaign_expand

    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    campaign_expand(campaign=campaign, batch_size=BATCH)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return wall, cpu, peak


def killed_halfway_then_resumed(campaign) -> tuple[int, int]:
    """(rows after the kill, rows after the resume) of a campaign expanded by a child killed halfway."""
    from campaigns.expansion import campaign_expand

    batches = -(-CONTACTS // BATCH)
    child = subprocess.Popen(
        [sys.executable, "-c", EXPAND_SOME, str(campaign.pk), str(batches // 2), str(BATCH)],
        cwd=REPO,
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "halfway", "the child did not reach the half"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    after_kill = campaign.recipients.count()
    campaign_expand(campaign=campaign, batch_size=BATCH)
    return after_kill, campaign.recipients.count()


def main() -> None:
    fresh_database(DB_NAME, ENV)
    django_setup()
    from django.db.models import Count

    account, number, template = seed()
    print(f"seeded {CONTACTS:,} contacts; expansion in batches of {BATCH:,}")

    campaign = campaign_new(account, number, template, "Winter sale")
    wall, cpu, peak = expand_measured(campaign)
    rows = campaign.recipients.count()
    kinds = dict(campaign.recipients.values_list("skip_reason").annotate(n=Count("id")).order_by())
    verdict = "met" if wall < GOAL_SECONDS and rows == CONTACTS else "NOT met"
    print(f"expansion: {rows:,} rows in {wall:.1f} s wall, {cpu:.1f} s CPU here ({wall / rows * 1e6:.0f} us per row)")
    print(f"  peak Python allocation {peak / 1e6:.1f} MB; rows by skip reason: {kinds}")
    print(f"  goal: {CONTACTS:,} in < {GOAL_SECONDS} s with flat memory: {verdict}")

    again = time.perf_counter()
    from campaigns.expansion import campaign_expand
    from campaigns.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(expansion_done=False, expanded_through=0)  # force a full rerun
    campaign.refresh_from_db()
    campaign_expand(campaign=campaign, batch_size=BATCH)
    print(
        f"second run from the start: {campaign.recipients.count() - rows} rows added "
        f"in {time.perf_counter() - again:.1f} s"
    )

    resumed = campaign_new(account, number, template, "Winter sale, resumed")
    after_kill, after_resume = killed_halfway_then_resumed(resumed)
    duplicates = resumed.recipients.values("contact").annotate(n=Count("id")).filter(n__gt=1).count()
    print(
        f"killed halfway: {after_kill:,} rows committed; resumed: {after_resume:,} rows, "
        f"{duplicates} contact(s) twice (goal: {CONTACTS:,} and 0)"
    )
