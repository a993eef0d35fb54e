"""The storefront's side of Waco: the catalog API (catalog/api.py) and the events it hears (waco/events).

`python -m bench api` runs both parts; `python -m bench api:catalog` or `api:events` runs one.

Catalog: CPU per variant upserted, per stock level pushed, and push-to-quote time.

In-process, through Django's test client (DRF's APIClient): each request runs the whole
stack — Bearer key, scope, rate limit, audit row, JSON parsing, validation, the shared upsert
and catalog.stock — in this process, so this process's CPU (time.process_time) is Waco's CPU,
plus the client's own encoding (a few percent: the figures err high). PostgreSQL runs in its
own processes and is left out; the wall time is printed beside.

1. 10,000 variants: 2,500 products of 4 sizes, PUT in batches of 250 products
   (POST /products/batch, 1,000 variants a request); then the same bodies again (all unchanged).
2. 10,000 stock levels: POST /stock, 1,000 levels a request, every level a new figure.
3. Push to quote: a customer's thread taps a product after each push (delivery stored and
   processed as an ingest worker does, the card built by conversations from catalog.selectors);
   the time from the push's request to the card quoting the new figure, 20 times.
Goals: <= 1 ms CPU per variant and per level; push to quote < 1 s.

Events: order.paid events recorded by this process at 50/s for 20 s, each committed in a transaction
of its own on an open-loop schedule (as a service records one with its change), delivered signed by
one real Celery worker (prefork x2, the webhooks queue) to a receiver on loopback in this process.
Prints p50/p99 of (arrival at the receiver - the event's created_at), goal p99 < 2 s, and the worker
processes' CPU (the worker and its pool, from /proc) per delivered event; PostgreSQL and Redis are
left out.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import REPO, cpu_seconds, fresh_database
from bench.openloop import percentile

DB_NAME = "waco_bench_api"
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "11")
PRODUCTS, SIZES, BATCH_PRODUCTS, LEVELS_PER_PUSH = 2500, ("XS", "S", "M", "L"), 250, 1000
QUOTES = 20
WABA_ID, NUMBER_ID, TOKEN = "300000000000003", "300000000000300", "bench-api-token-0000"
CUSTOMER = "971501230000"
EVENT_RATE, EVENT_SECONDS, EVENT_WARMUP, EVENT_WORKER_CONCURRENCY = 50, 20, 20, 2
EVENT_GOAL_P99_SECONDS = 2.0
ENV = os.environ | {
    "WACO_ENV": "test",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"postgres://postgres:postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "WACO_API_RATE_PER_MINUTE": "100000",
    "WACO_EVENTS_ALLOW_LOOPBACK": "true",
    "DJANGO_DEBUG": "false",
}


def django_setup() -> None:
    os.environ.update(ENV)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def seed() -> str:
    """The shop's account and number; answers a raw API key holding the catalog scopes."""
    from waco.api.keys import key_create
    from waco.channels.services import business_account_create, phone_number_create

    account = business_account_create(name="Bench Shop", waba_id=WABA_ID, access_token=TOKEN)
    phone_number_create(
        business_account=account,
        graph_id=NUMBER_ID,
        display_phone_number="+971 50 999 0003",
        verified_name="Bench Shop",
        throughput_mps=1000,
    )
    _, raw = key_create(name="bench", scopes=["catalog:read", "catalog:write"], waba_ids=[WABA_ID])
    return raw


def product_body(n: int) -> dict:
    return {
        "external_id": f"P{n:05d}",
        "name": f"Linen Abaya {n}",
        "description": "Breathable linen, relaxed fit.",
        "category": f"Category {n % 20}",
        "image_urls": [f"https://shop.example/img/{n}.jpg"],
        "variants": [
            {"sku": f"P{n:05d}-{size}", "options": {"size": size}, "price_minor": 32050 + n, "currency": "AED"}
            for size in SIZES
        ],
    }


def timed(requests) -> tuple[float, float, list]:
    """(CPU seconds, wall seconds, answers) of running the request callables in turn."""
    cpu, wall = time.process_time(), time.perf_counter()
    answers = [request() for request in requests]
    return time.process_time() - cpu, time.perf_counter() - wall, answers


def check(answers, expected: set[str]) -> None:
    for answer in answers:
        assert answer.status_code == 200, answer.content[:500]
        results = {r["result"] for r in answer.json()["results"]}
        assert results <= expected, results


def upserts(client) -> list[str]:
    bodies = [product_body(n) for n in range(PRODUCTS)]
    batches = [bodies[i : i + BATCH_PRODUCTS] for i in range(0, PRODUCTS, BATCH_PRODUCTS)]
    variants = PRODUCTS * len(SIZES)
    lines = []
    for label, expected in (("created", {"created"}), ("the same again", {"unchanged"})):
        cpu, wall, answers = timed(
            [lambda b=batch: client.post("/api/v1/products/batch", {"products": b}, format="json") for batch in batches]
        )
        check(answers, expected)
        per = cpu * 1000 / variants
        lines.append(
            f"upsert {variants:,} variants ({label}): {per:.3f} ms CPU per variant, wall {wall:.1f} s "
            f"[{'ok' if per <= 1 else 'over'} goal <= 1 ms]"
        )
    return lines


def levels(client) -> str:
    from django.utils import timezone

    skus = [f"P{n:05d}-{size}" for n in range(PRODUCTS) for size in SIZES]
    as_of = timezone.now().isoformat()
    pushes = [
        [{"sku": sku, "on_hand": 7 + i % 5, "as_of": as_of} for i, sku in enumerate(skus[i : i + LEVELS_PER_PUSH])]
        for i in range(0, len(skus), LEVELS_PER_PUSH)
    ]
    cpu, wall, answers = timed(
        [lambda p=push: client.post("/api/v1/stock", {"levels": p}, format="json") for push in pushes]
    )
    check(answers, {"applied"})
    per = cpu * 1000 / len(skus)
    return (
        f"push {len(skus):,} stock levels: {per:.3f} ms CPU per level, wall {wall:.1f} s "
        f"[{'ok' if per <= 1 else 'over'} goal <= 1 ms]"
    )


def customer_taps(reply_id: str) -> None:
    """The customer taps a button: the delivery stored and processed as an ingest worker would."""
    from waco.ingest import inbox
    from waco.ingest.services import delivery_process

    message = {
        "from": CUSTOMER,
        "id": f"wamid.BENCHAPI{time.time_ns()}",
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": "See"}},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "971509990003", "phone_number_id": NUMBER_ID},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": CUSTOMER}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}],
    }
    result = delivery_process(delivery_id=inbox.delivery_receive(source="meta", body=json.dumps(body), headers={}))
    assert not result.failed, result


def card_text() -> str:
    from conversations.models import Direction, ThreadMessage

    reply = ThreadMessage.objects.filter(direction=Direction.OUTBOUND).order_by("-pk").first()
    return reply.payload.get("interactive", {}).get("body", {}).get("text", "")


def push_to_quote(client) -> str:
    from django.utils import timezone

    from catalog.models import Product

    product = Product.objects.get(external_id="P00000")
    customer_taps(f"prod:{product.pk}")  # the thread exists and imports are warm before timing
    times = []
    for i in range(QUOTES):
        figure = 1 + i % 5  # the card says "N left" up to 5
        level = {"sku": "P00000-M", "on_hand": figure, "as_of": timezone.now().isoformat()}
        start = time.perf_counter()
        answer = client.post("/api/v1/stock", {"levels": [level]}, format="json")
        assert answer.json()["results"][0]["result"] in ("applied", "unchanged"), answer.json()
        customer_taps(f"prod:{product.pk}")
        times.append(time.perf_counter() - start)
        assert f"M: 320.50 AED ({figure} left)" in card_text(), card_text()
    p50, worst = percentile(times, 50) * 1000, max(times) * 1000
    return (
        f"push to the thread's next quote: p50 {p50:.0f} ms, max {worst:.0f} ms over {QUOTES} "
        f"[{'ok' if worst < 1000 else 'over'} goal < 1 s]"
    )


def receiver_start() -> tuple[ThreadingHTTPServer, list]:
    """The merchant's receiver on loopback: (webhook-id, arrival time) of every POST, answered 200."""
    arrivals = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            arrivals.append((self.headers["webhook-id"], time.time()))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, arrivals


def worker_start(log_path: str) -> subprocess.Popen:
    """One Celery worker on the webhooks queue, returned once it says it is ready."""
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "waco", "worker", "--queues", "webhooks", "--pool", "prefork"]
            + ["--concurrency", str(EVENT_WORKER_CONCURRENCY), "--loglevel", "INFO", "--without-gossip"]
            + ["--without-mingle", "-n", "bench-events@%h"],
            cwd=REPO,
            env=ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "ready." not in Path(log_path).read_text(errors="replace"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start; see {log_path}")
        time.sleep(0.1)
    return worker


def events_commit(prefix: str, count: int) -> list[str]:
    """`count` order.paid events, each in a transaction of its own committed on schedule at EVENT_RATE."""
    from django.db import transaction

    from waco.events.models import EventType
    from waco.events.services import event_record

    ids, start = [], time.perf_counter()
    for n in range(count):
        time.sleep(max(0.0, start + n / EVENT_RATE - time.perf_counter()))
        reference = f"{prefix}{n:05d}"
        data = {
            "reference": reference,
            "status": "paid",
            "currency": "AED",
            "total_minor": 640_00,
            "customer": {"wa_id": CUSTOMER, "user_id": None},
            "lines": [{"sku": "P00000-M", "name": "Linen Abaya 0", "quantity": 2, "unit_price_minor": 320_00}],
        }
        with transaction.atomic():
            ids.append(event_record(EventType.ORDER_PAID, f"order:{reference}", data).id)
    return ids


def delivered(ids: list[str], arrivals: list, timeout: float = 120) -> dict[str, float]:
    """The first arrival of each event, once every one has arrived and no delivery is left pending."""
    from waco.events.models import Delivery, DeliveryState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        first = {}
        for event_id, at in list(arrivals):
            first.setdefault(event_id, at)
        if set(ids) <= first.keys() and not Delivery.objects.filter(state=DeliveryState.PENDING).exists():
            return first
        time.sleep(0.1)
    raise RuntimeError(f"{len(set(ids) - first.keys())} of {len(ids)} events not delivered after {timeout} s")


def events() -> list[str]:
    import redis

    from waco.events.models import Event
    from waco.events.services import endpoint_create

    redis.Redis.from_url(ENV["REDIS_URL"]).flushdb()  # no drain message or doorbell flag of an earlier run
    server, arrivals = receiver_start()
    endpoint_create(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/waco", event_types=["order.paid"])
    log_path = str(Path(tempfile.gettempdir()) / "bench-events-worker.log")
    worker = worker_start(log_path)
    try:
        delivered(events_commit("WARM", EVENT_WARMUP), arrivals)  # connections and imports warm, not reported
        arrivals.clear()
        cpu = cpu_seconds([worker.pid])
        # Recording's CPU: this process's transactions, and the receiver thread beside them (errs high).
        recording = time.process_time()
        ids = events_commit("B", EVENT_RATE * EVENT_SECONDS)
        recording = time.process_time() - recording
        first = delivered(ids, arrivals)
        cpu = cpu_seconds([worker.pid]) - cpu
    finally:
        worker.terminate()
        worker.wait(30)
        server.shutdown()
    created = dict(Event.objects.filter(id__in=ids).values_list("id", "created_at"))
    latencies = [first[event_id] - created[event_id].timestamp() for event_id in ids]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    ok = "ok" if p99 < EVENT_GOAL_P99_SECONDS else "over"
    return [
        f"events: {len(ids):,} order.paid recorded at {EVENT_RATE}/s for {EVENT_SECONDS} s, 1 Celery worker"
        f" (prefork x{EVENT_WORKER_CONCURRENCY}), a receiver on loopback: {len(first):,} delivered,"
        f" {len(arrivals) - len(first)} duplicate posts",
        f"    created to arrival: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        f" [{ok} goal p99 < {EVENT_GOAL_P99_SECONDS:.0f} s: {p99 / EVENT_GOAL_P99_SECONDS:.2f} of it]",
        f"    worker CPU (worker and pool): {cpu * 1000 / len(first):.2f} ms per delivered event;"
        f" recording, one transaction each (receiver thread included): {recording * 1000 / len(ids):.2f} ms per event",
    ]


def main(part: str | None = None) -> None:
    """Both parts, or the one named (catalog, events), on a fresh database."""
    fresh_database(DB_NAME, ENV)
    django_setup()
    if part in (None, "catalog"):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {seed()}")
        for line in upserts(client):
            print(line)
        print(levels(client))
        print(push_to_quote(client))
    if part in (None, "events"):
        for line in events():
            print(line)


if __name__ == "__main__":
    main()
