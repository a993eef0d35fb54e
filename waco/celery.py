"""The Celery app. Its settings live in waco.celery_config (through Django settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waco.settings")

app = Celery("waco")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
