"""The send path's throughput and pacing against the sandbox served alone.

Waco's full path (claim within the limiter, pair limit, HTTP, outcome rows)
in several Celery workers, against the same sandbox as a raw loop of the same
Graph client with no Waco logic. Prints sends/s with statuses off and on, the
ratio to raw, the busiest sliding second at 80/s and 1,000/s limits (at the
attempts' start, Waco's side), duplicates, and CPU ms per send by process.

The pace under a limit is also judged against a floor (PACE_FLOOR_SHARE of the
limit): Waco should use the throughput Meta gives a number, not just stay under
it. That is a speed, so it is a verdict here and not a test: the suite checks
only the ceiling (tests/outbound/test_throughput_limit.py).
"""

import os
import subprocess
import sys
import time

from bench.common import REPO, busiest_second, cpu_seconds, fresh_database, pids_named, wait_http

SANDBOX_PORT = 8766
WEB_PORT = 8767
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "3000"))
RAW_SECONDS = 8
CUSTOMERS = 2000
# 76/s at an 80/s limit: the floor the throughput test used to assert.
PACE_FLOOR_SHARE = 0.95
ENV = os.environ | {
    "WACO_ENV": "test",
    "DJANGO_SETTINGS_MODULE": "waco.settings",
    "DATABASE_URL": "postgres://postgres:postgres@127.0.0.1:5432/waco_bench_outbound",
    "REDIS_URL": "redis://127.0.0.1:6379/3",
    "WACO_GRAPH_API_BASE": f"http://127.0.0.1:{SANDBOX_PORT}/sandbox/graph",
    "WACO_SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{WEB_PORT}/webhooks/whatsapp/",
    # The pair limit is per customer: out of the way, so the number's limit is what binds.
    "WACO_PAIR_RATE_PER_MINUTE": "100000",
    "WACO_PAIR_BURST": "100000",
    "DJANGO_DEBUG": "false",
}
RAW_LOOP = """
import django, sys, time; django.setup()
from waco.cloud_api.client import GraphClient
client, number, seconds = GraphClient(access_token=sys.argv[1]), sys.argv[2], float(sys.argv[3])
sent, deadline = 0, time.monotonic() + seconds
while time.monotonic() < deadline:
    client.send_message(number, {"to": "9715%08d" % sent, "type": "text", "text": {"body": "raw"}})
    sent += 1
print(sent)
"""


def django_setup() -> None:
    os.environ.update(ENV)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def seed():
    from django.utils import timezone

    from waco.channels.services import business_account_create, phone_number_create
    from waco.contacts import services as contacts
    from waco.sandbox import services as sandbox

    account = business_account_create(name="Bench", waba_id="300000000000001", access_token="bench-token-000000")
    number = phone_number_create(
        business_account=account,
        graph_id="300000000000100",
        display_phone_number="+971 50 999 0000",
        throughput_mps=100_000,
    )
    sandbox.sandbox_seed(
        waba_id=account.waba_id,
        phone_number_id=number.graph_id,
        display_phone_number="971509990000",
        access_token="bench-token-000000",
    )
    now = timezone.now()
    contact_ids = []
    for n in range(CUSTOMERS):
        contact = contacts.contact_resolve(wa_id=f"9715{n:08d}")
        contacts.window_touch(contact=contact, phone_number=number, inbound_at=now)
        contact_ids.append(contact)
    return number, contact_ids


def enqueue(number, contacts_list, count: int) -> float:
    """Messages through the policy (message_enqueue); returns enqueues/s."""
    from outbound import services

    services.outbox_ring = lambda *a, **k: None  # the workers are started together below
    started = time.monotonic()
    for n in range(count):
        services.message_enqueue(
            phone_number=number,
            contact=contacts_list[n % len(contacts_list)],
            category="service",
            purpose="reply",
            content={"type": "text", "text": {"body": f"bench {n}"}},
        )
    return count / (time.monotonic() - started)


def run_workers(count: int) -> tuple[float, dict]:
    """Start the workers, publish one drain each, wait for the outbox to empty."""
    from outbound.models import MessageStatus, OutboundMessage

    workers = [
        start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "waco",
                "worker",
                "-Q",
                "service,ingest",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"bench{i}@%h",
            ],
            ENV,
        )
        for i in range(WORKERS)
    ]
    time.sleep(4)  # workers up
    groups = {
        "workers": [w.pid for w in workers],
        "sandbox": [SANDBOX.pid],
        "web": [WEB.pid],
        "postgres": pids_named("postgres"),
        "redis": pids_named("redis-server"),
    }
    cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from outbound.tasks import drain_outbox\n"
            f"for _ in range({WORKERS}): drain_outbox.apply_async(args=['service'], queue='service')",
        ],
        cwd=REPO,
        env=ENV,
        check=True,
    )
    started = time.monotonic()
    pending = OutboundMessage.objects.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
    while pending.exists() and time.monotonic() - started < 300:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    cpu = {name: (cpu_seconds(pids) - cpu_before[name]) * 1000 / count for name, pids in groups.items()}
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(30)
    return count / elapsed, cpu


def busiest_second_of_attempts() -> int:
    from outbound.models import SendAttempt

    return busiest_second(sorted(t.timestamp() for t in SendAttempt.objects.values_list("started_at", flat=True)))


def paced_rate() -> float:
    """Attempts per second from the first to the last: the pace the limiter allowed."""
    from outbound.models import SendAttempt

    times = sorted(t.timestamp() for t in SendAttempt.objects.values_list("started_at", flat=True))
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


def pace_verdict(limit: int) -> str:
    pace, floor = paced_rate(), limit * PACE_FLOOR_SHARE
    return f"pace {pace:.1f}/s against a floor of {floor:.0f}/s: {'met' if pace >= floor else 'NOT MET'}"


def duplicates() -> int:
    from django.db.models import Count

    from outbound.models import SendAttempt

    return (
        SendAttempt.objects.filter(outcome="accepted").values("message").annotate(n=Count("id")).filter(n__gt=1).count()
    )


def reset_rows() -> None:
    from outbound.models import OutboundMessage

    OutboundMessage.objects.all().delete()


def main() -> None:
    global SANDBOX, WEB
    fresh_database("waco_bench_outbound", ENV)
    subprocess.run(["redis-cli", "-n", "3", "flushdb"], capture_output=True)
    SANDBOX = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "waco.wsgi:application",
            "-w",
            "2",
            "--bind",
            f"127.0.0.1:{SANDBOX_PORT}",
            "--log-level",
            "warning",
        ],
        ENV | {"DJANGO_SETTINGS_MODULE": "bench.sandbox_settings", "WACO_SANDBOX_DELIVERY_THREAD": "true"},
    )
    WEB = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "waco.wsgi:application",
            "-w",
            "2",
            "--bind",
            f"127.0.0.1:{WEB_PORT}",
            "--log-level",
            "warning",
        ],
        ENV,
    )
    try:
        wait_http(f"http://127.0.0.1:{SANDBOX_PORT}/sandbox/config")
        wait_http(f"http://127.0.0.1:{WEB_PORT}/health/")
        django_setup()
        from waco.sandbox import services as sandbox

        number, customers = seed()
        sandbox.config_update(
            changes={"lean": True, "statuses": False, "numbers": {number.graph_id: {"messages_per_second": 100_000}}}
        )
        print(f"{os.cpu_count()} cores; sandbox: gunicorn 2 workers, lean; Waco: {WORKERS} Celery workers")
        raws = [
            subprocess.Popen(
                [sys.executable, "-c", RAW_LOOP, "bench-token-000000", number.graph_id, str(RAW_SECONDS)],
                cwd=REPO,
                env=ENV,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(WORKERS)
        ]
        raw_rate = sum(int(p.communicate()[0].strip()) for p in raws) / RAW_SECONDS
        print(f"raw Graph client loop, {WORKERS} processes, no Waco logic: {raw_rate:7.0f} sends/s")

        enqueue_rate = enqueue(number, customers, MESSAGES)
        print(f"enqueue through the policy (one process): {enqueue_rate:7.0f} messages/s")
        rate, cpu = run_workers(MESSAGES)
        print(
            f"Waco, limit far above reach, statuses off: {rate:7.0f} sends/s, ratio to raw {rate / raw_rate:.2f}"
            f" (goal >= 0.6), duplicates {duplicates()}"
        )
        print("    CPU ms per send: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))

        reset_rows()
        sandbox.config_update(
            changes={
                "statuses": True,
                "lean_statuses": True,
                "status_delays_ms": {"sent": 0, "delivered": 0, "read": 0},
            }
        )
        enqueue(number, customers, MESSAGES // 2)
        rate, cpu = run_workers(MESSAGES // 2)
        print(
            f"Waco, statuses on (sent/delivered/read webhooks into Waco's web and workers): {rate:7.0f} sends/s,"
            f" duplicates {duplicates()}"
        )
        print("    CPU ms per send: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
        sandbox.config_update(changes={"statuses": False})

        for limit, seconds in ((80, 10), (1000, 5)):
            reset_rows()
            type(number).objects.filter(pk=number.pk).update(throughput_mps=limit)
            subprocess.run(
                ["redis-cli", "-n", "3", "del", f"waco:ratelimit:number:{number.graph_id}"], capture_output=True
            )
            count = limit * seconds
            enqueue(number, customers, count)
            rate, _ = run_workers(count)
            print(
                f"limit {limit}/s: {rate:6.0f} sends/s sustained, busiest sliding second {busiest_second_of_attempts()}"
                f" (limit + burst {limit + max(1, int(limit * 0.05))}), duplicates {duplicates()}"
            )
            print(f"    {pace_verdict(limit)}")
    finally:
        for proc in (SANDBOX, WEB):
            proc.terminate()
            proc.wait(20)
        subprocess.run(["redis-cli", "-n", "3", "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
