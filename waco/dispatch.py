"""Publishing Celery tasks without letting a down broker fail the caller."""

import logging

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
