"""True end offsets (high watermarks), also from brokers whose ListOffsets answers short.

The embedded broker (Tansu) answers ListOffsets(latest) with one past the *first* offset of
a partition's last record batch, not one past its last record: after a batch of three
records at offsets 5–7 it says 6, while a fetch reports the high watermark 8. Faust's table
recovery compares a store's persisted changelog offset with that answer (a worker taking a
partition back would crash with ``ConsistencyError``), and tocsin's drain, lag and stall
checks would see work as done that is not. So every end offset tocsin uses comes from
here: ListOffsets, then one fetch from just before that answer, whose high watermark is
the truth (on Apache Kafka the two agree and the fetch only confirms it).
"""

import asyncio
import time
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

PROBE_SECONDS = 2.0


class EndOffsets:
    """A group-less consumer that reads end offsets; use it from one event loop."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.consumer: AIOKafkaConsumer | None = None
        self.lock = asyncio.Lock()

    async def __aenter__(self) -> "EndOffsets":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    async def _started(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=10
            )
            await consumer.start()
            self.consumer = consumer
        return self.consumer

    async def of(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """End offsets of ``partitions``, corrected."""
        partitions = list(partitions)
        if not partitions:
            return {}
        async with self.lock:
            consumer = await self._started()
            listed = await consumer.end_offsets(partitions)
            return await self._corrected(consumer, listed)

    async def correct(self, listed: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        """``listed`` (a ListOffsets answer) with each partition's fetched high watermark."""
        async with self.lock:
            return await self._corrected(await self._started(), listed)

    async def _corrected(
        self, consumer: AIOKafkaConsumer, listed: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        ends = dict(listed)
        probed = [tp for tp, end in listed.items() if end]
        if not probed:
            return ends
        consumer.assign(probed)  # fresh partition states: no high watermark from a past probe
        for tp in probed:
            consumer.seek(tp, listed[tp] - 1)
        deadline = time.monotonic() + PROBE_SECONDS
        while any(consumer.highwater(tp) is None for tp in probed) and time.monotonic() < deadline:
            await consumer.getmany(*probed, timeout_ms=100, max_records=len(probed))
        for tp in probed:
            ends[tp] = max(listed[tp], consumer.highwater(tp) or 0)
        consumer.unsubscribe()
        return ends
