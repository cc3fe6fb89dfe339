"""One HTTP attempt to deliver a notification, and what its answer means.

A 2xx delivered it. A 408, 425, 429, a 5xx, a timeout or a connection failure may pass:
retry. Any other answer (a 4xx: wrong URL, bad token, a body the receiver refuses) will
not pass by waiting: it goes to the dead-letter topic at once, with the answer as reason.
"""

from dataclasses import dataclass
from enum import StrEnum

import aiohttp
import orjson

from models.notification import Notification, body, headers
from models.notifications import Notifications

RETRYABLE_STATUS = frozenset({408, 425, 429})


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    detail: str = ""


async def attempt(session: aiohttp.ClientSession, note: Notification, notifications: Notifications) -> Attempt:
    """POST ``note`` to its channel once."""
    channel = notifications.channels.get(note.channel)
    if channel is None:
        return Attempt(Outcome.REFUSED, f"channel {note.channel!r} is no longer in the policy")
    data = orjson.dumps(body(note, channel, notifications.public_url))
    timeout = aiohttp.ClientTimeout(total=notifications.delivery.timeout_s)
    try:
        async with session.post(channel.url, data=data, headers=headers(note, channel), timeout=timeout) as answer:
            text = (await answer.text())[:200]
            status = answer.status
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return Attempt(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:300])
    if 200 <= status < 300:
        return Attempt(Outcome.DELIVERED)
    outcome = Outcome.RETRY if status >= 500 or status in RETRYABLE_STATUS else Outcome.REFUSED
    return Attempt(outcome, f"HTTP {status}: {text}")
