"""Liveness of the parts Waco needs: the database, the broker, the worker.

Anyone may ask whether Waco is up (a load balancer must); only staff and monitors
holding WACO_HEALTH_TOKEN see which part is down and why, since error texts name
hosts, ports and processes.
"""

import hmac
import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from waco.celery import app as celery_app
from waco.models import Heartbeat

WORKER_HEARTBEAT = "worker"
# Beat asks for a heartbeat every 30 s; three missed beats mean the worker is gone.
WORKER_STALE_AFTER = timedelta(seconds=90)


def heartbeat_record(*, name: str) -> None:
    Heartbeat.objects.update_or_create(
        name=name,
        defaults={"seen_at": timezone.now(), "process": f"{socket.gethostname()}:{os.getpid()}"},
    )


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "vendor": connection.vendor}


def check_broker() -> dict:
    with celery_app.connection_for_write() as conn:
        # One attempt, short timeout: a health probe must answer quickly.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        conn.default_channel  # noqa: B018  (opening a channel makes the transport talk to the server)
        transport = conn.transport.driver_type
    return {"status": "ok", "transport": transport}


def check_worker() -> dict:
    beat = Heartbeat.objects.filter(name=WORKER_HEARTBEAT).first()
    if beat is None:
        return {"status": "unknown", "detail": "no heartbeat yet"}
    age = timezone.now() - beat.seen_at
    status = "ok" if age <= WORKER_STALE_AFTER else "stale"
    return {
        "status": status,
        "last_seen_seconds_ago": round(age.total_seconds(), 1),
        "process": beat.process,
    }


# The web process can serve only if these answer; the worker is reported, not required,
# so a load balancer does not take web servers out when workers restart.
REQUIRED_CHECKS = {"database": check_database, "broker": check_broker}


def may_see_detail(request) -> bool:
    """Staff signed in to the admin, or a monitor sending `Authorization: Bearer <WACO_HEALTH_TOKEN>`."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    token = settings.WACO_HEALTH_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


def health_view(request):
    started = time.monotonic()
    parts, down = {}, []
    for name, check in REQUIRED_CHECKS.items():
        try:
            parts[name] = check()
        except Exception as exc:  # any failure of a dependency is "down", named
            parts[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
            down.append(name)
    if "database" not in down:
        parts["worker"] = check_worker()
    body = {"status": "down" if down else "ok"}
    if may_see_detail(request):
        body |= {"down": down, "checks": parts, "took_ms": round((time.monotonic() - started) * 1000, 1)}
    response = JsonResponse(body, status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    return response
