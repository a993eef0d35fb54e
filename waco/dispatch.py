"""Enqueueing Celery tasks after the transaction that made their work commits."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def send_task_or_log(task, *args) -> bool:
    """Publish now; a broker error is logged and swallowed.

    The caller has already committed a row that beat re-dispatches, so a down
    broker delays the work and never loses it. Returns whether it was published.
    """
    try:
        task.apply_async(args=args)
    except Exception:  # kombu raises several classes for a down broker
        logger.exception("could not publish %s%r; beat will re-dispatch it", task.name, args)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """Publish `task(*args)` once the current transaction commits (now, if none)."""
    transaction.on_commit(lambda: send_task_or_log(task, *args))
