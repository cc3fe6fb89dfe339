"""Sink agents: Kafka → ClickHouse, in batches bounded by size and time.

``take_events`` acknowledges a batch only when the loop comes back for the next one, i.e.
after ``JSONWriter.write_records`` returned, which retries until ClickHouse accepts the
batch: an outage stalls the stream (backpressure) instead of dropping anything. One agent
writes lifecycle events (from ``tocsin.event-log``), another the signal log: both carry
JSON rows, many per record, which ClickHouse parses itself.
"""

import logging

import faust

from models.errors import Reason, Rejection
from sinks.clickhouse.writer import JSONWriter
from streams.dlq import dead_letter

log = logging.getLogger(__name__)


def register(
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
