"""Wake a worker to drain a table of due rows, without a message per row.

The rows are the queue; a Celery message only says "there is work". Ringing
sets a short-lived flag and publishes a drain task only if the flag was not
set; the drain silences the flag before it claims rows, so work committed
after that rings again. A lost message leaves due rows, which beat drains.
"""

import logging

from waco.dispatch import send_task_or_log
from waco.flags import flag_clear, flag_set, flag_set_if_absent

logger = logging.getLogger(__name__)

# A lost drain message silences new wake-ups for at most this long; beat's job
# catches anything older.
DOORBELL_TTL_SECONDS = 5


def doorbell_ring(*, key: str, task, args: tuple = (), force: bool = False) -> bool | None:
    """Publish `task(*args)` unless a drain is already requested.

    Returns True when published, False when one was already requested, None
    when neither could be done (the rows are safe; beat drains them later).
    Never raises.
    """
    if not force:
        try:
            if not flag_set_if_absent(key, DOORBELL_TTL_SECONDS):
                return False
        except Exception:  # Redis is down: publish anyway, the broker may be elsewhere
            logger.warning("doorbell %s unavailable; publishing regardless", key, exc_info=True)
    return True if send_task_or_log(task, *args) else None


def doorbell_hold(*, key: str) -> None:
    """Called by a drain that will claim again before it ends: rings meanwhile publish
    nothing (the drain takes their rows) instead of a drain each, which under steady
    traffic would fill every worker process with drains."""
    try:
        flag_set(key, DOORBELL_TTL_SECONDS)
    except Exception:
        logger.warning("doorbell %s unavailable", key, exc_info=True)


def doorbell_silence(*, key: str) -> None:
    """Called by a drain before it claims rows."""
    try:
        flag_clear(key)
    except Exception:
        logger.warning("doorbell %s unavailable", key, exc_info=True)
