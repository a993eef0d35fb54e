"""Conversation latency: customers write through the sandbox, Waco's workers answer.

Open loop: a sender posts customer messages to the sandbox's customer endpoint
on a fixed schedule (10/s, 25/s, 50/s, ... for BENCH_SECONDS each, stopping once
p99 passes 5 s), whatever the answers take. The sandbox (gunicorn, its own processes) posts each message as
a signed webhook to Waco's web (gunicorn); Celery workers run the dialogue and
send the reply through the send path to the sandbox's Graph API, which records
it (SentMessage.created_at) and queues sent/delivered/read statuses back to
Waco, as Meta would. Latency runs from when a message was due to be sent
(so a slow sandbox or web cannot hide queueing) to when the sandbox accepted
the customer's first reply. Every message is a new customer (half type "hi",
half tap "Browse products"), so the per-customer pair limit never binds; the
pair limit is raised anyway (WACO_PAIR_RATE_PER_MINUTE=6000) and the number's
throughput set to 1,000/s on both sides. BENCH_WEBHOOK_BATCH (default 1, one
POST per event) lets the sandbox merge up to that many due webhooks into one
POST, as Meta may (one delivery can carry several entries). Worker CPU counts
the Celery processes from the first send until the level is quiet (statuses
included), divided by the messages; web and sandbox likewise. PostgreSQL's
CPU is read from the bench database's backends, told apart by application_name
(Waco's web and workers; the sandbox). Redis is left out; the machine's busy
share says whether the cores were saturated.
Goals: p99 < 500 ms at 100/s; the highest rate whose p99 stays under 1 s.
The ceiling column divides the cores by the CPU one message cost at that level:
no rate above it can be carried, however the work is scheduled.
"""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

from bench.common import REPO, cpu_seconds, fresh_database, process_cpu_seconds, wait_http
from bench.openloop import percentile
from waco.celery_config import ALL_QUEUES

SANDBOX_PORT = int(os.environ.get("BENCH_SANDBOX_PORT", "8768"))
WEB_PORT = int(os.environ.get("BENCH_WEB_PORT", "8769"))
DB_NAME = "waco_bench_conversation"
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "11")
RATES = [float(r) for r in os.environ.get("BENCH_RATES", "10,25,50,100,150,200").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "4"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
SANDBOX_WORKERS = int(os.environ.get("BENCH_SANDBOX_WORKERS", "2"))
# Meta reports sent, delivered and read for every reply; BENCH_STATUSES=0 leaves them out.
STATUSES = os.environ.get("BENCH_STATUSES", "1") != "0"
# Meta may carry several due webhooks in one POST (docs/cloud-api.md); 1 is one POST per event.
WEBHOOK_BATCH = int(os.environ.get("BENCH_WEBHOOK_BATCH", "1"))
# Beyond this p99 the next, higher rate only says the same louder.
STOP_AFTER_P99_MS = 5000
# A level's last replies and statuses must be in before the next level starts.
QUIET_TIMEOUT = 60
WABA_ID, NUMBER_ID, TOKEN = "300000000000002", "300000000000200", "bench-conversation-token-0000"
# PostgreSQL's CPU is told apart by the connection's application_name.
APP_WACO, APP_SANDBOX, APP_BENCH = "waco", "waco-sandbox", "waco-bench"


def database_url(application_name: str) -> str:
    """BENCH_DB_OPTIONS, e.g. "conn_max_age=60", are added as django-environ DATABASE_URL options."""
    options = f"&{os.environ['BENCH_DB_OPTIONS']}" if os.environ.get("BENCH_DB_OPTIONS") else ""
    return f"postgres://postgres:postgres@127.0.0.1:5432/{DB_NAME}?application_name={application_name}{options}"


ENV = os.environ | {
    "WACO_ENV": "test",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": database_url(APP_WACO),
    "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "WACO_GRAPH_API_BASE": f"http://127.0.0.1:{SANDBOX_PORT}/sandbox/graph",
    "WACO_SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{WEB_PORT}/webhooks/whatsapp/",
    "WACO_PAIR_RATE_PER_MINUTE": "6000",
    "WACO_PAIR_BURST": "100",
    "DJANGO_DEBUG": "false",
}
HI = {"type": "text", "text": {"body": "hi"}}
TAP = {
    "type": "interactive",
    "interactive": {"type": "button_reply", "button_reply": {"id": "cats:1", "title": "Browse products"}},
}


def django_setup() -> None:
    os.environ.update(ENV | {"DATABASE_URL": database_url(APP_BENCH)})
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def start(args: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def seed() -> None:
    from catalog.models import Category, Product, Variant
    from waco.channels.services import business_account_create, phone_number_create
    from waco.sandbox import services as sandbox

    account = business_account_create(name="Bench Shop", waba_id=WABA_ID, access_token=TOKEN)
    phone_number_create(
        business_account=account,
        graph_id=NUMBER_ID,
        display_phone_number="+971 50 999 0002",
        verified_name="Bench Shop",
        throughput_mps=1000,
    )
    category = Category.objects.create(business_account=account, name="Abayas", slug="abayas")
    product = Product.objects.create(business_account=account, category=category, external_id="P1", name="Linen Abaya")
    Variant.objects.create(
        product=product, sku="ABY-M", attributes={"size": "M"}, price_minor=320_00, currency="AED", on_hand=50
    )
    sandbox.sandbox_seed(
        waba_id=WABA_ID,
        phone_number_id=NUMBER_ID,
        display_phone_number="971509990002",
        access_token=TOKEN,
        verified_name="Bench Shop",
    )
    sandbox.config_update(
        changes={
            "numbers": {NUMBER_ID: {"messages_per_second": 1000}},
            "statuses": STATUSES,
            "webhook_batch_size": WEBHOOK_BATCH,
        }
    )


# --- the open-loop sender ------------------------------------------------------------------


async def _post(port: int, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            f"POST /sandbox/customer/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _send_level(
    rate: float, seconds: float, prefix: str, port: int = SANDBOX_PORT
) -> tuple[dict[str, float], int, float]:
    """Post rate*seconds messages from distinct customers to the sandbox on `port`; (wa_id -> due wall
    time, errors, elapsed)."""
    total = int(rate * seconds)
    start_mono = time.perf_counter() + 0.2
    start_wall = time.time() + 0.2
    due: dict[str, float] = {}
    errors = 0

    async def fire(n: int):
        nonlocal errors
        wa_id = f"{prefix}{n:06d}"
        await asyncio.sleep(max(0.0, start_mono + n / rate - time.perf_counter()))
        body = json.dumps(
            {"from": wa_id, "name": f"Customer {n}", "phone_number_id": NUMBER_ID, "message": HI if n % 2 == 0 else TAP}
        ).encode()
        try:
            status = await _post(port, body)
        except OSError:
            status = 0
        if status == 200:
            due[wa_id] = start_wall + n / rate
        else:
            errors += 1

    await asyncio.gather(*(fire(n) for n in range(total)))
    return due, errors, time.perf_counter() - start_mono


# --- reading the results -----------------------------------------------------------------


def first_replies(prefix: str) -> dict[str, float]:
    """wa_id -> wall time the sandbox accepted the first reply to that customer."""
    from django.db.models import Min

    from waco.sandbox.models import SentMessage

    rows = SentMessage.objects.filter(to__startswith=prefix).values("to").annotate(first=Min("created_at"))
    return {r["to"]: r["first"].timestamp() for r in rows}


def quiet() -> bool:
    """No webhook owed by the sandbox, none unprocessed at Waco, no send in flight."""
    from outbound.models import MessageStatus, OutboundMessage
    from waco.ingest.models import Delivery, DeliveryStatus
    from waco.sandbox import services as sandbox

    return (
        sandbox.deliveries_pending() == 0
        and not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists()
        and not OutboundMessage.objects.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).exists()
    )


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine: PostgreSQL and Redis serve others too, so
    their share cannot be told apart; what this says is whether the cores were saturated."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:8]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def postgres_backends() -> dict[int, tuple[str, float]]:
    """pid -> (application_name, CPU seconds) of the bench database's PostgreSQL backends."""
    import psycopg

    with psycopg.connect("postgresql://postgres:postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
        ).fetchall()
    return {pid: (name, process_cpu_seconds(pid)) for pid, name in rows}


class PostgresCpu:
    """CPU of the bench database's backends per application_name over a level. Connections
    are recycled (CONN_MAX_AGE), so backends are read every 0.2 s and each one's last
    reading kept; a backend that lived less than that is missed (a lower bound)."""

    def __init__(self):
        self.first = postgres_backends()
        self.last = dict(self.first)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.2):
            self.last |= postgres_backends()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.last |= postgres_backends()
        spent: dict[str, float] = {}
        for pid, (name, cpu) in self.last.items():
            spent[name] = spent.get(name, 0.0) + cpu - self.first.get(pid, (name, 0.0))[1]
        return spent


def run_level(rate: float, prefix: str, groups: dict[str, list[int]], seconds: float = SECONDS) -> dict:
    cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    postgres = PostgresCpu()
    busy_before, total_before = machine_busy()
    due, errors, elapsed = asyncio.run(_send_level(rate, seconds, prefix))
    deadline = time.monotonic() + QUIET_TIMEOUT
    replies = first_replies(prefix)
    while time.monotonic() < deadline and (len(replies) < len(due) or not quiet()):
        time.sleep(0.5)
        replies = first_replies(prefix)
    cpu = {name: (cpu_seconds(pids) - cpu_before[name]) * 1000 / max(1, len(due)) for name, pids in groups.items()}
    pg = postgres.stop()
    cpu |= {
        f"pg {name}": pg.get(app, 0.0) * 1000 / max(1, len(due))
        for name, app in (("waco", APP_WACO), ("sandbox", APP_SANDBOX))
    }
    busy_after, total_after = machine_busy()
    latencies = [(replies[w] - t) * 1000 for w, t in due.items() if w in replies]
    return {
        "offered": rate,
        "achieved": len(due) / elapsed,
        "sent": len(due),
        "errors": errors,
        "unanswered": len(due) - len(latencies),
        "p50": percentile(latencies, 50) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
        "max": max(latencies) if latencies else float("nan"),
        "cpu": cpu,
        "busy": 100 * (busy_after - busy_before) / max(1, total_after - total_before),
    }


def ceiling(r: dict) -> float:
    """Messages/s this machine could carry at this level's CPU cost per message, every core
    busy and nothing else running: an upper bound (Redis and the sender are not counted)."""
    return (os.cpu_count() or 1) * 1000 / max(1e-9, sum(r["cpu"].values()))


def print_row(r: dict) -> None:
    cpu = r["cpu"]
    print(
        f"{r['offered']:7.0f}/s {r['achieved']:8.1f}/s {r['p50']:8.0f} {r['p99']:8.0f} {r['max']:8.0f}"
        f" {cpu['workers']:9.1f} {cpu['web']:7.1f} {cpu['pg waco']:7.1f} {cpu['sandbox']:9.1f}"
        f" {cpu['pg sandbox']:7.1f} {sum(cpu.values()):7.1f} {ceiling(r):8.1f}/s {r['busy']:6.0f}%"
        f"   {r['errors']}/{r['unanswered']}",
        flush=True,
    )


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main() -> None:
    busy = [p for p in (SANDBOX_PORT, WEB_PORT) if not port_free(p)]
    if busy:
        sys.exit(f"ports {busy} are in use (another bench running?); set BENCH_SANDBOX_PORT / BENCH_WEB_PORT")
    fresh_database(DB_NAME, ENV)
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True)
    logs = REPO / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    with open(logs / "conversation.log", "wb") as log:
        sandbox_env = ENV | {
            "DJANGO_SETTINGS_MODULE": "bench.sandbox_settings",
            "WACO_SANDBOX_DELIVERY_THREAD": "true",
            "DATABASE_URL": database_url(APP_SANDBOX),
        }
        sandbox_proc = start(
            [
                python,
                "-m",
                "gunicorn",
                "waco.wsgi:application",
                "-w",
                str(SANDBOX_WORKERS),
                "-k",
                "gthread",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{SANDBOX_PORT}",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            sandbox_env,
            log,
        )
        web = start(
            [
                python,
                "-m",
                "gunicorn",
                "waco.wsgi:application",
                "-w",
                str(WEB_WORKERS),
                "--bind",
                f"127.0.0.1:{WEB_PORT}",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            ENV,
            log,
        )
        worker = start(
            [
                python,
                "-m",
                "celery",
                "-A",
                "waco",
                "worker",
                "--queues",
                ",".join(ALL_QUEUES),
                "--pool",
                "prefork",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "--loglevel",
                os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
                "--without-gossip",
                "--without-mingle",
                "-n",
                "bench-conversation@%h",
            ],
            ENV,
            log,
        )
    procs = [sandbox_proc, web, worker]
    try:
        wait_http(f"http://127.0.0.1:{SANDBOX_PORT}/sandbox/config")
        wait_http(f"http://127.0.0.1:{WEB_PORT}/health/")
        django_setup()
        seed()
        time.sleep(3)  # the worker's pool is up
        groups = {"workers": [worker.pid], "web": [web.pid], "sandbox": [sandbox_proc.pid]}
        print(
            f"{os.cpu_count()} cores shared by sender, sandbox ({SANDBOX_WORKERS} gunicorn gthread x4), Waco web"
            f" ({WEB_WORKERS} gunicorn sync), 1 Celery worker (prefork x{WORKER_CONCURRENCY}), PostgreSQL, Redis;"
            f" {SECONDS:.0f} s per rate; pair limit raised to 6000/min;"
            f" up to {WEBHOOK_BATCH} webhook(s) per sandbox POST"
        )
        run_level(5, "9700", groups, seconds=4)  # warm up connections and imports, not reported
        print(
            "offered  achieved  p50 ms   p99 ms   max ms  CPU ms per inbound message:"
            "                            ceiling  machine  errors/"
        )
        print(
            "                                              workers     web  PG(waco)  sandbox"
            " PG(sbx)   total                busy  unanswered"
        )
        results = []
        for level, rate in enumerate(RATES, start=1):
            result = run_level(rate, f"97{level:02d}", groups)
            results.append(result)
            print_row(result)
            if result["unanswered"]:
                print(
                    f"    stopping: {result['unanswered']} messages unanswered {QUIET_TIMEOUT} s after the last"
                    f" send (no beat runs here to sweep lost work; see {logs / 'conversation.log'})"
                )
                break
            if result["p99"] > STOP_AFTER_P99_MS:
                print(f"    stopping: p99 above {STOP_AFTER_P99_MS} ms")
                break
        at_100 = next((r for r in results if r["offered"] == 100), None)
        if at_100:
            verdict = "yes" if at_100["p99"] < 500 else "NO"
            print(f"p99 under 500 ms at 100/s: {verdict} ({at_100['p99']:.0f} ms)")
        else:
            print(f"p99 under 500 ms at 100/s: NO (100/s not tried: stopped at {results[-1]['offered']:.0f}/s)")
        # The goal needs every message to cost at most cores / 100 s of CPU across all processes.
        print(
            f"CPU per message at the first rate: {sum(results[0]['cpu'].values()):.1f} ms; at 100/s the"
            f" {os.cpu_count()} cores allow {(os.cpu_count() or 1) * 10:.0f} ms; ceiling"
            f" {ceiling(results[0]):.1f} messages/s"
        )
        under_1s = [r["offered"] for r in results if r["p99"] < 1000 and not r["unanswered"]]
        print(
            f"highest offered rate with p99 under 1 s: {max(under_1s):.0f}/s"
            if under_1s
            else "no offered rate kept p99 under 1 s"
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
        subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
