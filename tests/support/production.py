"""Running manage.py as production would: WACO_ENV=production with every value it requires.

The secrets are strong-looking stand-ins (production refuses the demo defaults); no command
run with them connects to the database or Redis.
"""

import subprocess
import sys

from tests.workers import REPO

STRONG_SECRETS = {
    "DJANGO_SECRET_KEY": "x7$Lq2!vN9#pR4@tW8^zB1&cF5*hJ3(kM6)sD0+gY2=uE7-aQ9",
    "WACO_META_APP_SECRET": "a-real-meta-app-secret-0123456789",
    "WACO_META_VERIFY_TOKEN": "a-real-verify-token-0123456789",
    "WACO_FIELD_ENCRYPTION_KEY": "Zm9yLXRlc3RzLW9ubHktYS1yZWFsLWxvb2tpbmcta2V5LTAx",
    "WACO_STRIPE_SECRET_KEY": "sk_live_0123456789abcdefghij",
    "WACO_STRIPE_WEBHOOK_SECRET": "whsec_0123456789abcdefghij",
}
# Production's settings but its secrets (tests of what production refuses start from this).
PRODUCTION_SETTINGS = {
    "WACO_ENV": "production",
    "DATABASE_URL": "postgres://postgres:postgres@127.0.0.1:5432/waco",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "WACO_PUBLIC_URL": "https://shop.example.com",
    "PATH": "/usr/bin:/bin",
}
PRODUCTION_ENV = PRODUCTION_SETTINGS | STRONG_SECRETS


def manage_in_production(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`manage.py <args>` under production settings (plus `env`), from the repository's root."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=PRODUCTION_ENV | (env or {}) | {"DJANGO_SETTINGS_MODULE": "waco.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
