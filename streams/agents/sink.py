"""Sink agent: lifecycle events → ClickHouse, in batches bounded by size and time.

``take_events`` acknowledges a batch only when the loop comes back for the next one, i.e.
after ``EventWriter.write`` returned, and ``write`` retries until ClickHouse accepts the
batch: an outage stalls the stream (backpressure) instead of dropping events.
"""

import logging

import faust
import orjson

from models.errors import Reason, Rejection
from sinks.clickhouse.writer import EventWriter, to_row
from streams.dlq import dead_letter

log = logging.getLogger(__name__)


def register(
    app: faust.App,
    incidents: faust.TopicT,
    dlq: faust.TopicT,
    writer: EventWriter,
    batch_size: int,
    batch_seconds: float,
) -> None:
    @app.agent(incidents, name="sink")
    async def sink(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            good = []
            for event in batch:
                try:
                    good.append(to_row(orjson.loads(event.value)))
                except Exception as exc:  # malformed event from a foreign producer
                    await dead_letter(dlq, event.value, Rejection(Reason.INVALID_VALUE, repr(exc)), event)
            await writer.write(good)
