"""The catalog API (catalog/api.py): CPU per variant upserted, per stock level pushed, and push-to-quote time.

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
"""

import json
import os
import sys
import time

from bench.common import REPO, fresh_database
from bench.openloop import percentile

DB_NAME = "waco_bench_api"
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "11")
PRODUCTS, SIZES, BATCH_PRODUCTS, LEVELS_PER_PUSH = 2500, ("XS", "S", "M", "L"), 250, 1000
QUOTES = 20
WABA_ID, NUMBER_ID, TOKEN = "300000000000003", "300000000000300", "bench-api-token-0000"
CUSTOMER = "971501230000"
ENV = os.environ | {
    "WACO_ENV": "test",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"postgres://postgres:postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "WACO_API_RATE_PER_MINUTE": "100000",
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


def main() -> None:
    fresh_database(DB_NAME, ENV)
    django_setup()
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {seed()}")
    for line in upserts(client):
        print(line)
    print(levels(client))
    print(push_to_quote(client))


if __name__ == "__main__":
    main()
