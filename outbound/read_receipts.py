"""Blue ticks: Graph calls, not outbound messages.

Fire and forget: no outbox row, no retry beyond short waits for the rate
limiter (they share the number's throughput with messages). A failure is
logged; the conversation does not depend on it.

The dialogue owes a receipt for each customer message once its turn commits;
the receipts a drain's batch owes go out as one task per number, whose calls
overlap (a task per message would hold a worker process for each of Meta's
100-300 ms answers).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from outbound import ratelimit
from waco.channels.models import PhoneNumber
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import PAIR_RATE_LIMIT_CODE, ErrorClass, GraphError
from waco.dispatch import send_task_or_log

logger = logging.getLogger(__name__)

# Graph calls in flight per task.
MARK_READ_CONCURRENCY = 8

_owed: dict[int, list[str]] = {}  # phone number pk -> wamids owed by this process
_owed_lock = threading.Lock()


def receipt_owe(*, phone_number_id: int, wamid: str) -> None:
    """Called after a turn commits; `receipts_publish` sends what is owed."""
    with _owed_lock:
        _owed.setdefault(phone_number_id, []).append(wamid)


def receipts_publish() -> None:
    """One task per number for the receipts owed so far (ingest calls this after each batch)."""
    from outbound.tasks import mark_read_many  # cycle: outbound.tasks imports this module

    with _owed_lock:
        owed = dict(_owed)
        _owed.clear()
    for phone_number_id, wamids in owed.items():
        send_task_or_log(mark_read_many, phone_number_id, wamids)


def messages_mark_read(*, phone_number: PhoneNumber, message_ids: list[str]) -> list[str]:
    """Mark customers' messages read, as many as the number's limiter allows now, calls
    overlapping. Returns the ids left for later (none when done, given up or paused)."""
    if phone_number.sending_paused or not message_ids:
        return []
    granted = ratelimit.number_acquire_many(phone_number=phone_number, count=len(message_ids))
    now, later = message_ids[:granted], message_ids[granted:]
    if now:
        client = GraphClient(access_token=phone_number.business_account.access_token)
        with ThreadPoolExecutor(max_workers=min(MARK_READ_CONCURRENCY, len(now))) as pool:
            errors = list(pool.map(lambda wamid: _mark_read(client, phone_number, wamid), now))
        # These calls spend the number's throughput too: Meta's 130429 on them cools the number.
        if any(e and e.error_class == ErrorClass.RATE and e.code != PAIR_RATE_LIMIT_CODE for e in errors):
            ratelimit.number_throttled(phone_number=phone_number)
        elif not all(errors):
            ratelimit.number_clean(phone_number=phone_number)
    return later


def _mark_read(client: GraphClient, phone_number: PhoneNumber, message_id: str) -> GraphError | None:
    try:
        client.mark_read(phone_number.graph_id, message_id)
    except GraphError as error:
        logger.warning("marking %s read on %s failed: %s", message_id, phone_number, str(error))
        return error
    return None
