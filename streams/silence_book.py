"""The silences a worker knows: made over the API, kept on a compacted topic, read by all.

``POST /v1/silences`` writes a silence twice: keyed by id to ``tocsin.silences`` (compacted:
its latest version is what a starting worker reads back), and as an input to every
partition of ``tocsin.signals`` — so every engine applies it in order with the signals it
affects, records it in the signal log (a replay sees it where the live run did), and lets
the signals it stops muting through at once when it is expired early.

Every process with the engine or the API follows the compacted topic from its start
(``follow``): a restarted worker knows every silence before it applies an input, and
``GET /v1/silences`` answers from any of them.
"""

import asyncio
import logging
from collections.abc import Iterable

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition

from models.matchers import format_matchers
from models.silence import Silence, newer
from models.timestamps import format_ms
from streams.codec import decode_item, encode_item, encode_silence
from streams.produce import hand_over

log = logging.getLogger(__name__)

#: How long an expired silence is still listed (and applied to late history): Alertmanager's default.
KEEP_EXPIRED_MS = 5 * 86_400_000
RETRY_SECONDS = 2.0


class SilenceBook:
    """Silences by id, newest version of each; ``version`` changes whenever one does."""

    def __init__(self) -> None:
        self.silences: dict[str, Silence] = {}
        self.version = 0
        self.ready = asyncio.Event()  # set once the compacted topic has been read to its end

    def put(self, silence: Silence) -> bool:
        """Keep ``silence`` if it is new or newer than what is known; whether it was."""
        known = self.silences.get(silence.silence_id)
        if not newer(known, silence):
            return False
        self.silences[silence.silence_id] = silence
        self.version += 1
        self.prune(silence.updated_at)
        return True

    def prune(self, now: int) -> None:
        """Forget silences that ended over ``KEEP_EXPIRED_MS`` ago."""
        old = [i for i, s in self.silences.items() if s.ends_at + KEEP_EXPIRED_MS < now]
        for silence_id in old:
            del self.silences[silence_id]
        if old:
            self.version += 1

    def listed(self, now: int) -> list[Silence]:
        """Active first, then pending, then expired; newest first within each."""
        order = {"active": 0, "pending": 1, "expired": 2}
        return sorted(self.silences.values(), key=lambda s: (order[s.state(now)], -s.starts_at, s.silence_id))


async def publish(silence: Silence, silences: faust.TopicT, signals: faust.TopicT, partitions: int) -> None:
    """Write ``silence`` to the compacted topic and to every signals partition; await the acks."""
    futures = await hand_over(silences, [(silence.silence_id.encode(), encode_item(silence), None, None)])
    marker = encode_silence(silence)
    futures += await hand_over(signals, [(None, marker, partition, None) for partition in range(partitions)])
    for future in futures:
        await future


def decoded(values: Iterable[bytes | None]) -> list[Silence]:
    """The silences among compacted-topic values (a tombstone or a bad record is skipped, logged)."""
    found = []
    for value in values:
        if not value:
            continue
        try:
            item = decode_item(value)
        except ValueError as exc:
            log.error("unreadable silence record skipped: %r", exc)
            continue
        if isinstance(item, Silence):
            found.append(item)
    return found


async def follow(book: SilenceBook, bootstrap_servers: str, topic: str) -> None:
    """Read ``topic`` from its start, then keep reading: every version lands in ``book``.

    A failure (the broker away) is logged and the reading starts over after a pause: the
    worker keeps running on the silences it knows.
    """
    while True:
        try:
            await _read(book, bootstrap_servers, topic)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("reading silences failed, starting over: %r", exc)
            await asyncio.sleep(RETRY_SECONDS)


async def _read(book: SilenceBook, bootstrap_servers: str, topic: str) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                for silence in decoded(r.value for r in records):
                    book.put(silence)
            if not book.ready.is_set() and all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
                book.ready.set()
                log.info("silences read: %d known", len(book.silences))
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(100):
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await consumer.topics()  # a metadata request: the topic may have just been created
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} not found")


def as_json(silence: Silence, now: int) -> dict:
    """A silence as the API shows it."""
    return {
        "id": silence.silence_id,
        "matchers": format_matchers(silence.matchers),
        "starts_at": format_ms(silence.starts_at),
        "ends_at": format_ms(silence.ends_at),
        "created_by": silence.created_by,
        "comment": silence.comment,
        "updated_at": format_ms(silence.updated_at),
        "state": str(silence.state(now)),
    }
