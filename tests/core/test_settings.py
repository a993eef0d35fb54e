import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.support.production import PRODUCTION_SETTINGS as PRODUCTION_ENV
from tests.support.production import STRONG_SECRETS as STRONG
from tests.workers import REPO
from waco import config


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env | {"DJANGO_SETTINGS_MODULE": "waco.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def secrets(**overrides) -> dict:
    values = {
        "secret_key": STRONG["DJANGO_SECRET_KEY"],
        "meta_app_secrets": [STRONG["WACO_META_APP_SECRET"]],
        "meta_verify_token": STRONG["WACO_META_VERIFY_TOKEN"],
        "field_encryption_keys": [STRONG["WACO_FIELD_ENCRYPTION_KEY"]],
        "stripe_secret_key": STRONG["WACO_STRIPE_SECRET_KEY"],
        "stripe_webhook_secrets": [STRONG["WACO_STRIPE_WEBHOOK_SECRET"]],
    }
    return values | overrides


def test_strong_secrets_pass_the_production_guard():
    config.check_production_secrets(**secrets())


@pytest.mark.parametrize(
    "override, named",
    [
        ({"secret_key": config.DEMO_SECRET_KEY}, "DJANGO_SECRET_KEY is the demo default"),
        (
            {"meta_app_secrets": [STRONG["WACO_META_APP_SECRET"], config.DEMO_META_APP_SECRET]},
            "WACO_META_APP_SECRET is the demo default",
        ),
        ({"meta_verify_token": config.DEMO_META_VERIFY_TOKEN}, "WACO_META_VERIFY_TOKEN is the demo default"),
        (
            {"field_encryption_keys": [config.DEMO_FIELD_ENCRYPTION_KEY]},
            "WACO_FIELD_ENCRYPTION_KEY is the demo default",
        ),
        ({"stripe_secret_key": config.DEMO_STRIPE_SECRET_KEY}, "WACO_STRIPE_SECRET_KEY is the demo default"),
        ({"stripe_webhook_secrets": []}, "WACO_STRIPE_WEBHOOK_SECRET is not set"),
        ({"secret_key": "short"}, "DJANGO_SECRET_KEY is shorter than 50"),
    ],
)
def test_production_guard_names_each_demo_or_weak_secret(override, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        config.check_production_secrets(**secrets(**override))


def test_production_refuses_to_start_with_demo_secrets():
    result = run_manage("check", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "Production refuses to start" in result.stderr
    for name in STRONG:
        assert name in result.stderr


def test_production_requires_database_and_redis():
    env = {k: v for k, v in (PRODUCTION_ENV | STRONG).items() if k not in ("DATABASE_URL",)}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL is required in production" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV | STRONG)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_never_installs_the_sandbox():
    code = "from django.conf import settings; print('waco.sandbox' in settings.INSTALLED_APPS)"
    result = run_manage("shell", "-c", code, env=PRODUCTION_ENV | STRONG)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    "key, base",
    [
        (config.DEMO_STRIPE_SECRET_KEY, "http://127.0.0.1:8000/sandbox/stripe"),
        ("sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "https://api.stripe.com"),
    ],
)
def test_a_real_stripe_key_in_the_demo_means_stripe_test_mode_with_the_same_code(key, base):
    code = "from django.conf import settings; print(settings.WACO_STRIPE_API_BASE)"
    env = {
        "WACO_ENV": "demo",
        "PATH": "/usr/bin:/bin",
        "WACO_STRIPE_SECRET_KEY": key,
        "WACO_DATA_DIR": "/tmp/waco-settings-test",
    }
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == base


# --- safe by default ---------------------------------------------------------------------


def settings_value(expression: str, env: dict) -> str:
    """`expression` evaluated under the settings a fresh process gets from `env`."""
    result = run_manage("shell", "-c", f"from django.conf import settings; print({expression})", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_a_server_started_with_nothing_set_is_production_and_refuses_the_demo_secrets():
    result = run_manage("check", env={})
    assert result.returncode != 0
    assert "Production refuses to start" in result.stderr
    assert "DJANGO_SECRET_KEY is the demo default" in result.stderr


def test_the_demo_command_brings_its_own_environment(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "WACO_DATA_DIR": str(tmp_path)}
    result = run_manage("demo", "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "Run the demo shop" in result.stdout


@pytest.mark.parametrize("env_name", ["demo", "test"])
@pytest.mark.parametrize("key", ["sk_live_51AbCdEfGhIjKlMnOpQrStUv", "rk_live_51AbCdEfGhIjKlMnOpQrStUv"])
def test_a_live_stripe_key_is_refused_outside_production(env_name, key, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "WACO_ENV": env_name, "WACO_STRIPE_SECRET_KEY": key, "WACO_DATA_DIR": str(tmp_path)}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert f"WACO_STRIPE_SECRET_KEY is a live Stripe key; WACO_ENV={env_name}" in result.stderr


@pytest.mark.parametrize("key", ["sk_live_x", " rk_live_x"])
def test_the_live_key_guard_names_the_variable(key):
    with pytest.raises(ImproperlyConfigured, match="WACO_STRIPE_SECRET_KEY is a live Stripe key"):
        config.check_no_live_stripe_key(name="WACO_STRIPE_SECRET_KEY", value=key, env="demo")
    config.check_no_live_stripe_key(name="WACO_STRIPE_SECRET_KEY", value="sk_test_x", env="demo")


def test_production_accepts_a_live_stripe_key():
    assert settings_value("settings.WACO_STRIPE_API_BASE", PRODUCTION_ENV | STRONG) == "https://api.stripe.com"


def test_forwarded_proto_is_ignored_without_a_proxy_and_trusted_with_one():
    assert settings_value("getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)", PRODUCTION_ENV | STRONG) == "None"
    with_proxy = PRODUCTION_ENV | STRONG | {"WACO_TRUSTED_PROXY_COUNT": "1"}
    assert settings_value("settings.SECURE_PROXY_SSL_HEADER", with_proxy) == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_hsts_preload_is_off_unless_asked_for():
    assert settings_value("settings.SECURE_HSTS_PRELOAD", PRODUCTION_ENV | STRONG) == "False"
    asked = PRODUCTION_ENV | STRONG | {"DJANGO_SECURE_HSTS_PRELOAD": "true"}
    assert settings_value("settings.SECURE_HSTS_PRELOAD", asked) == "True"
