"""Consumer lag: messages on owned partitions not yet processed and committed.

The drain waits for it to reach zero; ``/metrics`` exports it per topic, the signal behind
the ``TocsinConsumerLagGrowing`` alert.
"""

import asyncio

import faust

from streams.metrics import CONSUMER_LAG


async def lag_by_topic(app: faust.App, topics: set[str] | None = None) -> dict[str, int]:
    """Per topic (of ``topics``, default all owned): end offset minus committed offset."""
    consumer = app.consumer
    owned = [tp for tp in consumer.assignment() if topics is None or tp.topic in topics]
    if not owned:
        return {}
    ends = await consumer.highwaters(*owned)
    # Faust records, per partition, the next offset to read once processing is committed.
    committed = consumer._committed_offset
    lag: dict[str, int] = {}
    for tp in owned:
        lag[tp.topic] = lag.get(tp.topic, 0) + max(0, (ends.get(tp) or 0) - (committed.get(tp) or 0))
    return lag


async def export_lag(app: faust.App, timeout: float = 2.0) -> None:
    """Refresh the ``tocsin_consumer_lag_messages`` gauge (left as is if the broker is slow)."""
    try:
        async with asyncio.timeout(timeout):
            lag = await lag_by_topic(app)
    except Exception:  # a scrape must answer even while Kafka is unreachable
        return
    CONSUMER_LAG.clear()
    for topic, messages in lag.items():
        CONSUMER_LAG.labels(topic).set(messages)
