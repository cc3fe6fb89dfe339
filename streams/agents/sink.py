"""Sink agents: Kafka → ClickHouse, in batches bounded by size and time.

``take_events`` acknowledges a batch only when the loop comes back for the next one, i.e.
after ``BatchWriter.write`` returned, and ``write`` retries until ClickHouse accepts the
batch: an outage stalls the stream (backpressure) instead of dropping anything. One agent
writes lifecycle events, another the signal log.
"""

import logging
from collections.abc import Callable

import faust
import orjson

from models.errors import Reason, Rejection
from sinks.clickhouse.writer import BatchWriter
from streams.dlq import dead_letter

log = logging.getLogger(__name__)


def register(
    app: faust.App,
    name: str,
    source: faust.TopicT,
    dlq: faust.TopicT,
    writer: BatchWriter,
    to_rows: Callable[[object], list[list]],
    batch_size: int,
    batch_seconds: float,
) -> None:
    @app.agent(source, name=name)
    async def sink(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            rows = []
            for event in batch:
                try:
                    rows += to_rows(orjson.loads(event.value))
                except Exception as exc:  # malformed record from a foreign producer
                    await dead_letter(dlq, event.value, Rejection(Reason.INVALID_VALUE, repr(exc)), event)
            await writer.write(rows)
