"""Celery settings, star-imported at the end of waco.settings (namespace CELERY_).

The broker URL and its transport options are set in settings.py, since they
depend on the mode (Redis, or a folder for the embedded default).
"""

from kombu import Exchange, Queue

# Queues. Service traffic (replies, receipts, delivery updates) never waits
# behind a campaign, so marketing has its own queue and its own workers.
QUEUE_INGEST = "ingest"  # webhook deliveries from Meta and Stripe
QUEUE_SERVICE = "service"  # service and utility sends, dialogue work
QUEUE_MARKETING = "marketing"  # campaigns and cart recovery
QUEUE_MAINTENANCE = "maintenance"  # beat jobs: reconciliation, polls, retention
# Events posted to the merchant's endpoints: a slow or hanging receiver holds only these workers.
QUEUE_WEBHOOKS = "webhooks"
ALL_QUEUES = (QUEUE_INGEST, QUEUE_SERVICE, QUEUE_MARKETING, QUEUE_MAINTENANCE, QUEUE_WEBHOOKS)

CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ALL_QUEUES]
CELERY_TASK_DEFAULT_QUEUE = QUEUE_SERVICE
CELERY_TASK_DEFAULT_EXCHANGE = QUEUE_SERVICE
CELERY_TASK_DEFAULT_ROUTING_KEY = QUEUE_SERVICE

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Results live in our own tables (inbox, outbox), never in a result backend.
CELERY_TASK_IGNORE_RESULT = True

# A task is acknowledged after it ran, and a worker killed mid-task gives its
# message back: together with idempotent tasks this means "at least once".
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# No task should run long: slow work is split into rows that beat picks up.
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90

# Redis hands an unacknowledged message to another worker after this long. It
# must exceed the longest task (90 s) and any countdown we use (we use none
# past a few minutes: long delays are rows that beat finds), else a slow task
# would run twice. Beat's re-dispatch jobs find lost work long before this.
BROKER_VISIBILITY_TIMEOUT_SECONDS = 60 * 60

# Publishing must fail fast when the broker is down: the caller (a webhook
# request) has already stored its row and must answer quickly; beat re-dispatches.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
