"""Helpers for settings: the demo secrets, the production guard, engine tuning.

Kept apart from settings.py so tests can call them without reloading settings.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

ENVIRONMENTS = ("demo", "test", "production")

# Loud on purpose: anyone who sees one of these in a log knows the deployment is unsafe.
DEMO_SECRET_KEY = "demo-insecure-django-secret-key-never-use-in-production"
DEMO_META_APP_SECRET = "demo-insecure-meta-app-secret"
# The sandbox's Meta app: not a secret, so only a made-up id, never used in production.
DEMO_META_APP_ID = "100000000000042"
DEMO_META_VERIFY_TOKEN = "demo-insecure-verify-token"
DEMO_FIELD_ENCRYPTION_KEY = "demo-insecure-field-encryption-key"
DEMO_STRIPE_SECRET_KEY = "sk_test_demo_insecure_sandbox_key"
DEMO_STRIPE_WEBHOOK_SECRET = "whsec_demo_insecure_sandbox_secret"

# Shorter than this is guessable; Fernet keys (44) and Django's generated keys (50) are longer.
MIN_SECRET_LENGTH = 32
# Django's own deploy check (security.W009) asks this much of SECRET_KEY.
MIN_DJANGO_SECRET_KEY_LENGTH = 50


def check_production_secrets(
    *,
    secret_key: str,
    meta_app_secrets: list[str],
    meta_verify_token: str,
    field_encryption_keys: list[str],
    stripe_secret_key: str,
    stripe_webhook_secrets: list[str],
) -> None:
    """Refuse to start production with a missing, demo or short secret.

    Every problem is named at once, so an operator fixes them in one go.
    """
    problems = []
    named_values = [
        ("DJANGO_SECRET_KEY", [secret_key], DEMO_SECRET_KEY, MIN_DJANGO_SECRET_KEY_LENGTH),
        ("WACO_META_APP_SECRET", meta_app_secrets, DEMO_META_APP_SECRET, 16),
        ("WACO_META_VERIFY_TOKEN", [meta_verify_token], DEMO_META_VERIFY_TOKEN, 16),
        ("WACO_FIELD_ENCRYPTION_KEY", field_encryption_keys, DEMO_FIELD_ENCRYPTION_KEY, MIN_SECRET_LENGTH),
        ("WACO_STRIPE_SECRET_KEY", [stripe_secret_key], DEMO_STRIPE_SECRET_KEY, 16),
        ("WACO_STRIPE_WEBHOOK_SECRET", stripe_webhook_secrets, DEMO_STRIPE_WEBHOOK_SECRET, 16),
    ]
    for name, values, demo_value, min_length in named_values:
        values = [v for v in values if v]
        if not values:
            problems.append(f"{name} is not set")
        elif demo_value in values or any("demo-insecure" in v or "demo_insecure" in v for v in values):
            problems.append(f"{name} is the demo default")
        elif any(len(v) < min_length for v in values):
            problems.append(f"{name} is shorter than {min_length} characters")
    if problems:
        raise ImproperlyConfigured("Production refuses to start: " + "; ".join(problems))


# Stripe's live secret and restricted keys; test-mode keys start sk_test_ / rk_test_.
LIVE_STRIPE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def check_no_live_stripe_key(*, name: str, value: str, env: str) -> None:
    """Refuse a live Stripe key outside production: a demo or a test must never charge anyone."""
    if value.strip().startswith(LIVE_STRIPE_KEY_PREFIXES):
        raise ImproperlyConfigured(
            f"{name} is a live Stripe key; WACO_ENV={env} accepts only test-mode keys (sk_test_..., rk_test_...)"
        )


def database_tuning(engine: str) -> dict:
    """Per-engine options: SQLite as a concurrent store for the demo, PostgreSQL pooled."""
    if engine == "django.db.backends.sqlite3":
        return {
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two processes never
                # deadlock upgrading read locks; WAL lets readers run beside a writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"),
            }
        }
    if engine == "django.db.backends.postgresql":
        return {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    return {}


def filesystem_broker_options(folder: Path) -> dict:
    """kombu's filesystem transport: one folder read and written by every process."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "store_processed": False,
        # Broadcast (worker remote control) files, else kombu writes ./control/.
        "control_folder": str(folder / "control"),
        # How often an idle worker looks for new files; the demo favours latency.
        "polling_interval": 0.05,
    }


def redis_broker_options(visibility_timeout: int) -> dict:
    return {
        "visibility_timeout": visibility_timeout,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
