"""Webhook ingest throughput and latency against a bare one-INSERT view.

Serves Waco with gunicorn (sync workers) on PostgreSQL, with the real Celery
dispatch to Redis, and loads it from separate processes:
(a) the most acknowledged deliveries/s at 64 connections (wrk), for the
    webhook and for a bare Django view that does one INSERT, and their ratio;
(b) p50/p99 at a fixed offered rate (open loop, bench/openloop.py);
(c) how long one webhook takes to be answered while the broker is down (the
    row is stored and beat publishes later; the publish must give up fast).
Goals: ratio >= 0.8; p99 < 30 ms at 1,000 deliveries/s; (c) under 5 s.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DB_NAME = "waco_bench"
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", str(2 * os.cpu_count())))
APP_SECRET = "bench-meta-app-secret"
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
# Closed-loop rounds alternate bare and webhook; the median ratio damps this noisy machine.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ROUND_SECONDS = 6
OPEN_LOOP_RATE = float(os.environ.get("BENCH_RATE", "1000"))
BROKER_DOWN_GOAL_SECONDS = 5
# One webhook through Django's test client in a process whose broker does not answer.
BROKER_DOWN_PROBE = """
import django, json, sys, time; django.setup()
from django.test import Client
body, signature = sys.argv[1].encode(), sys.argv[2]
started = time.monotonic()
response = Client().post("/webhooks/whatsapp/", data=body, content_type="application/json",
                         HTTP_X_HUB_SIGNATURE_256=signature)
print(json.dumps({"status": response.status_code, "seconds": time.monotonic() - started}))
"""

ENV = os.environ | {
    "WACO_ENV": "test",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"postgres://postgres:postgres@127.0.0.1:5432/{DB_NAME}",
    # A Redis database of its own: the queue fills up (no worker) and is emptied after.
    "REDIS_URL": "redis://127.0.0.1:6379/2",
    "WACO_META_APP_SECRET": APP_SECRET,
    "DJANGO_DEBUG": "false",
}


def sh(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=ENV, check=True, capture_output=True, text=True, **kwargs)


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        print("installing wrk from Debian's packages")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk")


def prepare_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres:postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    sh(sys.executable, "manage.py", "migrate", "--noinput")
    sh(
        sys.executable,
        "manage.py",
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute("
        "'CREATE TABLE bench_bare_insert (id bigserial primary key, body text, received_at timestamptz)')",
    )


def delivery_body() -> bytes:
    sys.path.insert(0, str(REPO))
    from tests.ingest.webhooks import text_message_body

    return text_message_body(phone_number_id="100000000000001", text="I would like two of the blue ones")


def signature(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def broker_down_answer(body: bytes) -> dict:
    """The webhook's answer and its time with REDIS_URL pointing at a port nobody listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    out = subprocess.run(
        [sys.executable, "-c", BROKER_DOWN_PROBE, body.decode(), signature(body)],
        cwd=REPO,
        env=ENV | {"REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_gunicorn() -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "waco.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(WEB_WORKERS),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=ENV,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def wrk_script(body: bytes, path: Path) -> Path:
    script = path / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body.decode()}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-Hub-Signature-256"] = "{signature(body)}"\n'
    )
    return script


def wrk_rate(wrk: str, url: str, script: Path, seconds: float) -> tuple[float, int]:
    out = subprocess.run(
        [wrk, "-t", "2", "-c", "64", "-d", f"{int(seconds)}s", "--timeout", "5s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        print("   ", errors.group(0))
    return rate, int(non_2xx.group(1)) if non_2xx else 0


def open_loop(url: str, body_file: Path, body: bytes, rate: float) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.openloop",
            url,
            str(rate),
            str(SECONDS),
            str(body_file),
            f"X-Hub-Signature-256: {signature(body)}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def stored_rows() -> dict:
    code = (
        "from django.db import connection; c = connection.cursor();"
        "c.execute('select count(*) from ingest_delivery'); d = c.fetchone()[0];"
        "c.execute('select count(*) from bench_bare_insert'); b = c.fetchone()[0];"
        "import redis, json; from django.conf import settings;"
        "print(json.dumps({'deliveries': d, 'bare': b, 'queued': redis.Redis.from_url(settings.REDIS_URL).llen('ingest')}))"
    )
    return json.loads(sh(sys.executable, "manage.py", "shell", "-c", code).stdout.strip().splitlines()[-1])


def main() -> None:
    wrk = ensure_wrk()
    prepare_database()
    subprocess.run(["redis-cli", "-n", "2", "flushdb"], check=True, capture_output=True)
    body = delivery_body()
    print(
        f"gunicorn {WEB_WORKERS} sync workers on PostgreSQL, Celery dispatch to Redis; "
        f"{os.cpu_count()} cores shared with the load generator; body {len(body)} bytes"
    )
    server = start_gunicorn()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = wrk_script(body, Path(tmp))
            body_file = Path(tmp) / "body.json"
            body_file.write_bytes(body)
            base = f"http://127.0.0.1:{PORT}"
            wrk_rate(wrk, f"{base}/bench/bare/", script, 2)  # warm up both paths
            wrk_rate(wrk, f"{base}/webhooks/whatsapp/", script, 2)
            result = open_loop(f"{base}/webhooks/whatsapp/", body_file, body, OPEN_LOOP_RATE)
            print(
                f"(b) open loop (first, on a fresh database) at {OPEN_LOOP_RATE:.0f}/s for {SECONDS:.0f} s: p50 {result['p50_ms']} ms, "
                f"p99 {result['p99_ms']} ms (goal < 30), max {result['max_ms']} ms, "
                f"completed {result['completed_per_s']}/s, errors {result['errors']}"
            )
            print(f"(a) 64 connections, closed loop, {ROUNDS} alternating rounds of {ROUND_SECONDS} s:")
            ratios = []
            for n in range(1, ROUNDS + 1):
                bare, bare_bad = wrk_rate(wrk, f"{base}/bench/bare/", script, ROUND_SECONDS)
                hook, hook_bad = wrk_rate(wrk, f"{base}/webhooks/whatsapp/", script, ROUND_SECONDS)
                ratios.append(hook / bare)
                print(
                    f"    round {n}: bare one-INSERT view {bare:6.0f} req/s, webhook {hook:6.0f} req/s,"
                    f" ratio {hook / bare:.2f}  (non-2xx {bare_bad}/{hook_bad})"
                )
            print(f"    median ratio webhook / bare: {statistics.median(ratios):.2f}   (goal >= 0.80)")
        print("    stored:", stored_rows(), "(every acknowledged delivery is a row; 'queued' counts drain tasks)")
        down = broker_down_answer(body)
        verdict = "met" if down["status"] == 200 and down["seconds"] < BROKER_DOWN_GOAL_SECONDS else "NOT MET"
        print(
            f"(c) broker down: answered {down['status']} in {down['seconds']:.2f} s"
            f" (goal 200 in < {BROKER_DOWN_GOAL_SECONDS} s: {verdict})"
        )
    finally:
        server.terminate()
        server.wait(20)
        subprocess.run(["redis-cli", "-n", "2", "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()
