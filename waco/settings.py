"""Waco settings, read from the environment through one helper (django-environ).

Three modes, chosen by WACO_ENV; nothing set means production, so a server started
bare refuses the demo secrets. `manage.py demo` and the test settings choose their own:
- demo: SQLite (WAL, immediate transactions), kombu's filesystem
  transport as broker, the sandbox as Graph API and Stripe. Nothing to install.
- test: PostgreSQL and Redis on 127.0.0.1 unless DATABASE_URL / REDIS_URL say
  otherwise; the sandbox installed.
- production: DATABASE_URL and REDIS_URL required, every secret required and
  the demo defaults refused (see waco.config.check_production_secrets).
"""

import tempfile
from pathlib import Path

import environ
import phonenumbers

from waco import config
from waco.celery_config import BROKER_VISIBILITY_TIMEOUT_SECONDS

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

WACO_ENV = env.str("WACO_ENV", default="production")
if WACO_ENV not in config.ENVIRONMENTS:
    raise environ.ImproperlyConfigured(f"WACO_ENV must be one of {', '.join(config.ENVIRONMENTS)}, not {WACO_ENV!r}")
PRODUCTION = WACO_ENV == "production"
DEMO_DATA_DIR = Path(env.str("WACO_DATA_DIR", default=str(BASE_DIR / "var")))

# --- secrets: loud demo defaults, refused in production -----------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=config.DEMO_SECRET_KEY)
WACO_META_APP_SECRETS = env.list("WACO_META_APP_SECRET", default=[config.DEMO_META_APP_SECRET])
WACO_META_VERIFY_TOKEN = env.str("WACO_META_VERIFY_TOKEN", default=config.DEMO_META_VERIFY_TOKEN)
# The Meta app the tokens belong to: with it and the first app secret, beat checks each token
# (waco.channels.token_health). Blank in production until set: no check.
WACO_META_APP_ID = env.str("WACO_META_APP_ID", default="" if PRODUCTION else config.DEMO_META_APP_ID)
WACO_FIELD_ENCRYPTION_KEYS = env.list("WACO_FIELD_ENCRYPTION_KEY", default=[config.DEMO_FIELD_ENCRYPTION_KEY])
WACO_STRIPE_SECRET_KEY = env.str("WACO_STRIPE_SECRET_KEY", default=config.DEMO_STRIPE_SECRET_KEY)
# Comma-separated, like Meta's: during a rotation every one verifies; the first signs (the sandbox).
WACO_STRIPE_WEBHOOK_SECRETS = env.list("WACO_STRIPE_WEBHOOK_SECRET", default=[config.DEMO_STRIPE_WEBHOOK_SECRET])
if PRODUCTION:
    config.check_production_secrets(
        secret_key=SECRET_KEY,
        meta_app_secrets=WACO_META_APP_SECRETS,
        meta_verify_token=WACO_META_VERIFY_TOKEN,
        field_encryption_keys=WACO_FIELD_ENCRYPTION_KEYS,
        stripe_secret_key=WACO_STRIPE_SECRET_KEY,
        stripe_webhook_secrets=WACO_STRIPE_WEBHOOK_SECRETS,
    )
else:
    # Real money never moves from a demo or a test run.
    config.check_no_live_stripe_key(name="WACO_STRIPE_SECRET_KEY", value=WACO_STRIPE_SECRET_KEY, env=WACO_ENV)

# --- integration endpoints -----------------------------------------------------
PORT = env.int("PORT", default=8000)
WACO_PUBLIC_URL = env.str("WACO_PUBLIC_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
# Outside production the sandbox, mounted at /sandbox/ in the same server, is Meta and Stripe.
_sandbox_base = f"{WACO_PUBLIC_URL}/sandbox"
WACO_GRAPH_API_BASE = env.str(
    "WACO_GRAPH_API_BASE",
    default="https://graph.facebook.com" if PRODUCTION else f"{_sandbox_base}/graph",
).rstrip("/")
WACO_GRAPH_API_VERSION = env.str("WACO_GRAPH_API_VERSION", default="v24.0")
# "Today" for the Graph API version's watch (waco.graph_version), as YYYY-MM-DD; blank: the real date.
WACO_TODAY = env.str("WACO_TODAY", default="")
# A real Stripe key (a test-mode sk_test_... of your own, say) means Stripe itself, in the demo too.
_real_stripe = PRODUCTION or WACO_STRIPE_SECRET_KEY != config.DEMO_STRIPE_SECRET_KEY
WACO_STRIPE_API_BASE = env.str(
    "WACO_STRIPE_API_BASE",
    default="https://api.stripe.com" if _real_stripe else f"{_sandbox_base}/stripe",
).rstrip("/")
WACO_DEMO_PHONE_NUMBER_ID = env.str("WACO_DEMO_PHONE_NUMBER_ID", default="100000000000001")
# Where the sandbox delivers its signed webhooks (Waco's own endpoint, as Meta would).
WACO_SANDBOX_WEBHOOK_URL = env.str("WACO_SANDBOX_WEBHOOK_URL", default=f"{WACO_PUBLIC_URL}/webhooks/whatsapp/")
# Where the sandbox's Stripe delivers its signed events (Waco's Stripe webhook, as Stripe would).
WACO_SANDBOX_STRIPE_WEBHOOK_URL = env.str(
    "WACO_SANDBOX_STRIPE_WEBHOOK_URL", default=f"{WACO_PUBLIC_URL}/webhooks/stripe/"
)
# Meta's webhook bodies can reach 3 MB: the webhook views take up to 3 MiB (waco.ingest.views).
DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
# This many webhooks refused for their signature within the window raise an alert (a rotated secret).
WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES = env.int("WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES", default=20)
WACO_WEBHOOK_SIGNATURE_ALERT_SECONDS = env.int("WACO_WEBHOOK_SIGNATURE_ALERT_SECONDS", default=300)
if WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES < 1 or WACO_WEBHOOK_SIGNATURE_ALERT_SECONDS < 1:
    raise environ.ImproperlyConfigured("WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES and _SECONDS must be at least 1")

# The pair limit: how fast one business number may message one customer. Meta
# publishes no figure (about one per 6 s is reported), so a bucket refilling at
# that pace with a burst that lets a three-message reply and quick taps through.
# The send path and the sandbox read the same values.
WACO_PAIR_RATE_PER_MINUTE = env.int("WACO_PAIR_RATE_PER_MINUTE", default=10)
WACO_PAIR_BURST = env.int("WACO_PAIR_BURST", default=10)
# Marketing may take at most this share of the portfolio's messaging limit, so
# receipts and order updates to new customers always find room.
WACO_MARKETING_LIMIT_SHARE = env.float("WACO_MARKETING_LIMIT_SHARE", default=0.5)
# Campaigns may hand the outbox at most this share of a number's throughput (campaigns.sending).
WACO_CAMPAIGN_THROUGHPUT_SHARE = env.float("WACO_CAMPAIGN_THROUGHPUT_SHARE", default=0.5)
# A running campaign pauses itself (campaigns.safety) when more than this share of its last
# WINDOW sends failed, or when its recipients' opt-outs pass this share of those who received it
# (and at least the minimum, so a small campaign is not paused by its first two "stop"s).
WACO_CAMPAIGN_FAILURE_RATE = env.float("WACO_CAMPAIGN_FAILURE_RATE", default=0.1)
WACO_CAMPAIGN_FAILURE_WINDOW = env.int("WACO_CAMPAIGN_FAILURE_WINDOW", default=200)
WACO_CAMPAIGN_OPT_OUT_RATE = env.float("WACO_CAMPAIGN_OPT_OUT_RATE", default=0.02)
WACO_CAMPAIGN_OPT_OUT_MIN = env.int("WACO_CAMPAIGN_OPT_OUT_MIN", default=10)

# How long a payment link, and the stock it holds, stays open. At least 35 minutes, so that
# Stripe's 30-minute minimum for a Checkout Session holds even when the create is retried.
WACO_PAYMENT_LINK_MINUTES = env.int("WACO_PAYMENT_LINK_MINUTES", default=40)
if WACO_PAYMENT_LINK_MINUTES < 35:
    raise environ.ImproperlyConfigured("WACO_PAYMENT_LINK_MINUTES must be at least 35 (Stripe needs 30 and a margin)")
# One reminder goes when a payment link has been open this long: early enough that the
# customer still has most of the link's life to pay (the reminder must beat the expiry).
WACO_PAYMENT_REMINDER_MINUTES = env.int("WACO_PAYMENT_REMINDER_MINUTES", default=15)
if not 0 < WACO_PAYMENT_REMINDER_MINUTES <= WACO_PAYMENT_LINK_MINUTES - 10:
    raise environ.ImproperlyConfigured(
        "WACO_PAYMENT_REMINDER_MINUTES must be positive and 10 minutes short of the link's life"
    )
# A cart whose customer has been quiet this long gets one recovery message (marketing opt-in only).
# Well inside the 24-hour window, so it goes free-form at no charge while the cart is fresh;
# the cart_recovery template covers a later send.
WACO_CART_RECOVERY_HOURS = env.int("WACO_CART_RECOVERY_HOURS", default=4)
if WACO_CART_RECOVERY_HOURS < 1:
    raise environ.ImproperlyConfigured("WACO_CART_RECOVERY_HOURS must be at least 1")

# The region (ISO 3166 code, e.g. AE) of phone numbers the storefront sends without a country
# code, for the REST API's contacts (waco.contacts.identifiers). Empty: such numbers are refused.
WACO_DEFAULT_PHONE_REGION = env.str("WACO_DEFAULT_PHONE_REGION", default="").strip().upper()
if WACO_DEFAULT_PHONE_REGION and WACO_DEFAULT_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise environ.ImproperlyConfigured(
        f"WACO_DEFAULT_PHONE_REGION must be a region code such as AE, GB or BR, not {WACO_DEFAULT_PHONE_REGION!r}"
    )

# Events to the storefront (waco.events): each POST to an endpoint gives up after this long.
WACO_EVENTS_TIMEOUT_SECONDS = env.float("WACO_EVENTS_TIMEOUT_SECONDS", default=10)
# The first retry's delay; each later one doubles (capped, with jitter) for three days.
WACO_EVENTS_RETRY_BASE_SECONDS = env.float("WACO_EVENTS_RETRY_BASE_SECONDS", default=10)
# The demo and the tests may post over http to loopback addresses; production posts only over
# https to public addresses (checked at delivery time, waco.events.addresses).
WACO_EVENTS_ALLOW_LOOPBACK = env.bool("WACO_EVENTS_ALLOW_LOOPBACK", default=not PRODUCTION)
# GET /api/v1/events lists events stamped before the oldest open transaction (PostgreSQL) less this
# margin for clocks, so an event whose transaction commits after a later one's is never skipped by a
# receiver's `after` cursor; on SQLite (the demo) the margin alone (waco.events.services).
WACO_EVENTS_LIST_SETTLE_SECONDS = env.float("WACO_EVENTS_LIST_SETTLE_SECONDS", default=5)

# Customers' media: downloaded into Django's default storage under MEDIA_ROOT.
# They are private (receipts, IDs, photos): no MEDIA_URL is served publicly.
# Tests share one folder with the worker processes they start.
_default_media_root = Path(tempfile.gettempdir()) / "waco-test-media" if WACO_ENV == "test" else DEMO_DATA_DIR / "media"
MEDIA_ROOT = env.str("WACO_MEDIA_ROOT", default=str(_default_media_root))
# Attempts at one media download (each fetches the short-lived URL afresh) before it fails and alerts.
WACO_MEDIA_MAX_ATTEMPTS = env.int("WACO_MEDIA_MAX_ATTEMPTS", default=8)

DEBUG = env.bool("DJANGO_DEBUG", default=WACO_ENV == "demo")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise environ.ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required in production")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies stand in front of Waco. 0 (the default): forwarded headers
# (X-Forwarded-For, X-Forwarded-Proto) are anyone's to write and are ignored; the
# client is the connection's address. See waco.proxy.client_ip.
WACO_TRUSTED_PROXY_COUNT = env.int("WACO_TRUSTED_PROXY_COUNT", default=0)
if WACO_TRUSTED_PROXY_COUNT < 0:
    raise environ.ImproperlyConfigured("WACO_TRUSTED_PROXY_COUNT must be 0 or more")
if WACO_TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /health/ tells anyone up or down; its detail (which part, errors, the worker's
# process) goes to staff and to monitors that send this token as a bearer header.
WACO_HEALTH_TOKEN = env.str("WACO_HEALTH_TOKEN", default="")

# --- apps ------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "waco",
    "waco.alerts",
    "waco.channels",
    "waco.api",
    "waco.contacts",
    "waco.ingest",
    "waco.events",
    "templates_lib",
    "outbound",
    "catalog",
    "checkout",
    "conversations",
    "campaigns",
]
if not PRODUCTION:
    # A stand-in for Meta and Stripe; never part of a production deployment.
    INSTALLED_APPS.append("waco.sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if "waco.sandbox" in INSTALLED_APPS:
    # The sandbox fakes payments and plays customers: it answers this machine only
    # (loopback) unless a hosted demo opens it on purpose.
    WACO_SANDBOX_OPEN = env.bool("WACO_SANDBOX_OPEN", default=False)
    MIDDLEWARE.insert(1, "waco.sandbox.access.SandboxLoopbackOnlyMiddleware")  # refuses before CSRF does
ROOT_URLCONF = "waco.urls"
WSGI_APPLICATION = "waco.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- database ----------------------------------------------------------------------
_default_database_url = {
    "demo": f"sqlite:///{DEMO_DATA_DIR / 'waco.sqlite3'}",
    "test": "postgres://postgres:postgres@127.0.0.1:5432/waco",
    "production": None,
}[WACO_ENV]
if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise environ.ImproperlyConfigured("DATABASE_URL is required in production")
DATABASES = {"default": env.db_url("DATABASE_URL", default=_default_database_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DEMO_DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES["default"].update(config.database_tuning(DATABASES["default"]["ENGINE"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- broker, cache ------------------------------------------------------------------
_default_redis_url = {"demo": "", "test": "redis://127.0.0.1:6379/1", "production": ""}[WACO_ENV]
REDIS_URL = env.str("REDIS_URL", default=_default_redis_url)
if PRODUCTION and not REDIS_URL:
    raise environ.ImproperlyConfigured("REDIS_URL is required in production")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = config.redis_broker_options(
        env.int("WACO_BROKER_VISIBILITY_TIMEOUT", default=BROKER_VISIBILITY_TIMEOUT_SECONDS)
    )
    # Shares the broker's Redis database: never call cache.clear(), it would empty the queues.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "waco",
        }
    }
else:
    # The embedded default: a broker that is a folder, shared by web, worker and beat.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = config.filesystem_broker_options(DEMO_DATA_DIR / "broker")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DEMO_DATA_DIR / "cache"),
        }
    }

# --- auth, i18n, static -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed log-ins (django-axes): a username is locked from one client address (waco.proxy.client_ip,
# the trusted-proxy rule) after AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_TIME hours.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as axes asks
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "waco.proxy.client_ip"
AXES_FAILURE_LIMIT = env.int("WACO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("WACO_LOGIN_LOCKOUT_HOURS", default=0.25)
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = False  # waco/admin.py registers axes' pages with declared action permissions
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "waco.api.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # RFC 9457 problem details for every error of /api/v1/ (waco.api.problems).
    "EXCEPTION_HANDLER": "waco.api.problems.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Waco API",
    "DESCRIPTION": (
        "The storefront's REST API: catalog, stock, orders, fulfilment, contacts, messages. "
        "Send `Authorization: Bearer <key>`; each operation names the scope it needs. Errors are "
        "RFC 9457 problem details; POST, PUT and PATCH honour `Idempotency-Key` (24 h); lists use cursor pages."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["waco.api.schema.api_v1_only"],
    # The schema and its docs describe the API and expose no data: readable without a key.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Choice sets whose field names other resources share ("category", "action"): named for what they are.
    "ENUM_NAME_OVERRIDES": {
        "ConsentCategoryEnum": "waco.contacts.models.ConsentCategory",
        "ConsentActionEnum": "waco.contacts.models.ConsentAction",
        "PutResultEnum": ["created", "updated", "unchanged"],  # PUT's answer: the same body twice says so
        "OrderStatusEnum": "checkout.models.OrderStatus",
        "MessageStatusEnum": "outbound.models.MessageStatus",
        "MessageCategoryEnum": "outbound.models.MessageCategory",
        "EventTypeEnum": "waco.events.models.EventType",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "RecipientStatusEnum": "campaigns.models.RecipientStatus",
    },
}
# The REST API (waco.api): requests per key and minute, and the largest body: 8 MiB admits a full
# 1,000-product batch as storefronts send it (3 variants, 3 images each: about 1.5 MB; tests/api/test_body_limit.py).
WACO_API_RATE_PER_MINUTE = env.int("WACO_API_RATE_PER_MINUTE", default=600)
WACO_API_MAX_BODY_BYTES = env.int("WACO_API_MAX_BODY_BYTES", default=8 * 1024 * 1024)

# --- production hardening (manage.py check --deploy is clean with these) -----------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is close to irreversible (browsers ship the list): an operator opts in.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]  # "preload is off": that is the choice above
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- mail: alerts go to staff (WACO_ADMIN_EMAILS); the demo prints them on the console ---
ADMINS = [
    (email, email) for email in env.list("WACO_ADMIN_EMAILS", default=[] if PRODUCTION else ["staff@example.com"])
]
SERVER_EMAIL = DEFAULT_FROM_EMAIL = env.str("WACO_SERVER_EMAIL", default="waco@localhost")
if PRODUCTION:
    vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Celery (read by waco.celery with namespace CELERY) --------------------------------
from waco.celery_config import *  # noqa: E402,F401,F403  (queues, limits, beat scheduler)
