"""Blue ticks and the typing indicator: Graph calls, not outbound messages.

Fire and forget: no outbox row, no retry beyond a short wait for the rate
limiter (they share the number's throughput with messages). A failure is
logged; the conversation does not depend on it.
"""

import logging

from outbound import ratelimit
from waco.channels.models import PhoneNumber
from waco.cloud_api.client import GraphClient
from waco.cloud_api.errors import GraphError

logger = logging.getLogger(__name__)


def message_mark_read(*, phone_number: PhoneNumber, message_id: str, typing_indicator: bool = False) -> float | None:
    """Mark a customer's message read (and show typing). Returns None when done or given
    up, or the seconds to wait when the number's limiter says not now."""
    if phone_number.sending_paused:
        return None
    decision = ratelimit.number_acquire(phone_number=phone_number)
    if not decision.allowed:
        return decision.retry_after
    client = GraphClient(access_token=phone_number.business_account.access_token)
    try:
        client.mark_read(phone_number.graph_id, message_id, typing_indicator=typing_indicator)
    except GraphError as error:
        logger.warning("marking %s read on %s failed: %s", message_id, phone_number, str(error))
    return None
