"""The notify role: a downstream consumer of ``tocsin.incidents`` that tells people.

Each batch of lifecycle events is planned (``models.notification.plan``) and delivered over
HTTP, all at once. What fails is retried for up to ``INLINE_SECONDS`` in place; what still
fails is parked, with its attempt count, on ``tocsin.notify-retry`` before the batch is
acknowledged, so a receiver that is down for minutes neither holds the stream (and a
rebalance) nor loses a notification. The retry agent tries each parked notification again at
its next backoff time, parks it again, or — past ``delivery.give_up``, or refused outright
(a 4xx) — dead-letters it with the reason. Delivery is at least once: a crash between a
send and the acknowledgement sends again, with the same id.

A delivered notification is reported back to the engine as a ``notified`` command, so the
incident's timeline, ClickHouse and the post-mortem show who was told what, when.
"""

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, replace

import aiohttp
import faust
import orjson
from faust.types import EventT

from models.command import Action, Command
from models.errors import Reason, Rejection
from models.notification import Notification, plan, retry_delays
from models.notifications import Notifications
from models.policy import Policy
from streams.dlq import dead_letter
from streams.metrics import NOTIFICATIONS
from streams.notify_delivery import Outcome, attempt
from streams.produce import produce
from streams.routing import batch_records

log = logging.getLogger(__name__)

ACTOR = "tocsin-notify"
#: How long a batch retries in place before parking what still fails.
INLINE_SECONDS = 2.0
BATCH = 200


@dataclass(frozen=True, slots=True)
class Pending:
    """A notification on its way: attempts so far, when it first failed, when to try next."""

    note: Notification
    attempts: int = 0
    first_failed_ms: int = 0
    not_before_ms: int = 0
    error: str = ""

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes) -> "Pending":
        data = orjson.loads(raw)
        return cls(**{**data, "note": Notification(**data["note"])})


@dataclass
class Round:
    """What one round of attempts came to."""

    delivered: list[Pending]
    parked: list[Pending]
    failed: list[Pending]


def _now_ms() -> int:
    return int(time.time() * 1000)


class Notifier:
    """Delivers notifications with capped exponential backoff; reports and parks the results."""

    def __init__(
        self, policy: Policy, retries: faust.TopicT, signals: faust.TopicT, dlq: faust.TopicT, partitions: int
    ) -> None:
        self.notifications = notifications = policy.notifications
        self.delays = retry_delays(notifications.delivery)
        self.retries, self.signals, self.dlq = retries, signals, dlq
        self.policy, self.partitions = policy, partitions

    async def deliver(self, session: aiohttp.ClientSession, pending: list[Pending], budget_s: float) -> None:
        """Attempt ``pending`` together (retrying in place for ``budget_s``), then settle each."""
        ends = time.monotonic() + budget_s
        results = await asyncio.gather(*(self._try(session, p, ends) for p in pending))
        done = Round([], [], [])
        for result, where in results:
            getattr(done, where).append(result)
        await self._settle(done, fresh=budget_s > 0)

    async def _try(self, session: aiohttp.ClientSession, pending: Pending, ends: float) -> tuple[Pending, str]:
        while True:
            tried = await attempt(session, pending.note, self.notifications)
            if tried.outcome is Outcome.DELIVERED:
                return pending, "delivered"
            now = _now_ms()
            pending = replace(
                pending,
                attempts=pending.attempts + 1,
                first_failed_ms=pending.first_failed_ms or now,
                error=tried.detail,
            )
            delay = self._next_delay(pending, now)
            if tried.outcome is Outcome.REFUSED or delay is None:
                return pending, "failed"
            if time.monotonic() + delay > ends:
                return replace(pending, not_before_ms=now + int(delay * 1000)), "parked"
            NOTIFICATIONS.labels(pending.note.channel, "retried").inc()
            await asyncio.sleep(delay)

    def _next_delay(self, pending: Pending, now: int) -> float | None:
        """Seconds to the next attempt; ``None`` once ``give_up`` has passed."""
        if not self.delays:
            return None
        delay = self.delays[min(pending.attempts - 1, len(self.delays) - 1)]
        if (now - pending.first_failed_ms) / 1000 + delay > self.notifications.delivery.give_up_s:
            return None
        return delay

    async def _settle(self, done: Round, fresh: bool) -> None:
        for pending in done.failed:
            NOTIFICATIONS.labels(pending.note.channel, "failed").inc()
            detail = f"{pending.note.channel}: {pending.error} (after {pending.attempts} attempt(s))"
            await dead_letter(self.dlq, pending.to_json(), Rejection(Reason.NOT_DELIVERED, detail), source="notify")
        for pending in done.parked:
            NOTIFICATIONS.labels(pending.note.channel, "retried").inc()
            if fresh:  # parked for the first time: say so once, not at every retry
                log.warning(
                    "notification %s to %s failing (%s): retrying with backoff",
                    pending.note.notification_id,
                    pending.note.channel,
                    pending.error,
                    extra={"incident_id": pending.note.incident_id, "channel": pending.note.channel},
                )
        if done.parked:
            parked = [(p.note.incident_id.encode(), p.to_json(), None, None) for p in done.parked]
            await produce(self.retries, parked)
        for pending in done.delivered:
            NOTIFICATIONS.labels(pending.note.channel, "delivered").inc()
        if done.delivered:
            now = _now_ms()
            commands = [_notified(p.note, now) for p in done.delivered]
            records, _ = batch_records([(commands, now, "")], self.policy, self.partitions)
            await produce(self.signals, [(None, value, partition, None) for partition, value in records])


def _notified(note: Notification, at: int) -> Command:
    return Command(
        Action.NOTIFIED,
        note.incident_id,
        ACTOR,
        at,
        text=note.notification_id,
        channel=note.channel,
        subject=note.subject,
    )


def register(
    app: faust.App,
    incidents: faust.TopicT,
    retries: faust.TopicT,
    signals: faust.TopicT,
    dlq: faust.TopicT,
    policy: Policy,
    partitions: int,
) -> None:
    notifier = Notifier(policy, retries, signals, dlq, partitions)
    notifications = notifier.notifications

    @app.agent(incidents, name="notify")
    async def notify(stream: faust.StreamT) -> None:
        async with aiohttp.ClientSession() as session:
            async for events in stream.take_events(BATCH, within=0.05):
                pending = [Pending(note) for event in events for note in await _planned(event, notifications, dlq)]
                if pending:
                    await notifier.deliver(session, pending, INLINE_SECONDS)

    @app.agent(retries, name="notify-retry")
    async def retry(stream: faust.StreamT) -> None:
        async with aiohttp.ClientSession() as session:
            async for events in stream.take_events(BATCH, within=0.05):
                pending = [p for event in events if (p := await _parked(event, dlq))]
                if not pending:
                    continue
                wait_ms = min(p.not_before_ms for p in pending) - _now_ms()
                # Never longer than the backoff cap: a rebalance waits for this batch.
                await asyncio.sleep(min(max(wait_ms, 0) / 1000, notifications.delivery.cap_s))
                await notifier.deliver(session, pending, 0.0)


async def _parked(event: EventT, dlq: faust.TopicT) -> Pending | None:
    try:
        return Pending.from_json(event.value)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        refused = Rejection(Reason.INVALID_VALUE, f"not a parked notification: {exc!r}")
        await dead_letter(dlq, event.value, refused, event)
        return None


async def _planned(event: EventT, notifications: Notifications, dlq: faust.TopicT) -> list[Notification]:
    try:
        return plan(orjson.loads(event.value), notifications)
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        await dead_letter(dlq, event.value, Rejection(Reason.INVALID_VALUE, f"not a lifecycle event: {exc!r}"), event)
        return []
