"""End offsets on the real embedded broker: one past the last record, also after batches
(its ListOffsets answers one past the first record of the last batch)."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from streams.end_offsets import EndOffsets
from streams.local.broker import EmbeddedBroker

pytestmark = pytest.mark.integration


async def produce_batches(bootstrap: str, topic: str, batches: list[int]) -> list[int]:
    """Send each batch as one produce request; the offsets the broker gave the records."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=100)
    await producer.start()
    offsets = []
    try:
        for size in batches:
            futures = [await producer.send(topic, b"x", partition=0) for _ in range(size)]
            offsets += [(await future).offset for future in futures]
    finally:
        await producer.stop()
    return offsets


def test_end_offset_is_one_past_the_last_record(broker: EmbeddedBroker) -> None:
    topic = f"ends-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[int, int, int, int]:
        tp = TopicPartition(topic, 0)
        async with EndOffsets(broker.bootstrap_servers) as ends:
            offsets = await produce_batches(broker.bootstrap_servers, topic, [5])
            first = (await ends.of([tp]))[tp]
            offsets += await produce_batches(broker.bootstrap_servers, topic, [3, 1, 4])
            return offsets[4], first, (await ends.of([tp]))[tp], offsets[-1]

    fifth, first, end, last = asyncio.run(scenario())
    assert first == fifth + 1
    assert end == last + 1 == 13
