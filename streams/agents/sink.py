"""Sink agents: Kafka → ClickHouse, in batches bounded by size and time.

``take_events`` acknowledges a batch only when the loop comes back for the next one, i.e.
after ``BatchWriter.write`` returned, and ``write`` retries until ClickHouse accepts the
batch: an outage stalls the stream (backpressure) instead of dropping anything. One agent
writes lifecycle events (rows built here), another the signal log (JSON rows that ClickHouse
parses itself).
"""

import logging
from collections.abc import Callable

import faust
import orjson

from models.errors import Reason, Rejection
from sinks.clickhouse.writer import BatchWriter, JSONWriter
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


def register_json(
    app: faust.App,
    name: str,
    source: faust.TopicT,
    dlq: faust.TopicT,
    writer: JSONWriter,
    batch_size: int,
    batch_seconds: float,
) -> None:
    """A sink for records that are JSON arrays of rows already: handed to ClickHouse as they are."""

    @app.agent(source, name=name)
    async def sink(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            by_value = {id(event.value): event for event in batch}
            refused = await writer.write_records([event.value for event in batch if event.value])
            for value, exc in refused:
                await dead_letter(dlq, value, Rejection(Reason.INVALID_VALUE, str(exc)[:500]), by_value[id(value)])
