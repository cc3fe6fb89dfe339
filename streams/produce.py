"""Batches of records to the producer: every record handed over first, the acks awaited once.

Goes to Faust's producer directly (``ProducerT.send``), not through ``Topic.send``: a topic's
send wraps each record in a future message, a channel hop and sensor callbacks, which cost
more than the record itself on the hot path (events, signal-log batches, engine inputs).
Values and keys are bytes already; nothing is serialized here.
"""

from collections.abc import Awaitable, Sequence

import faust

#: (key, value, partition or None for the key's, headers)
Record = tuple[bytes | None, bytes, int | None, list[tuple[str, bytes]] | None]


async def hand_over(topic: faust.TopicT, records: Sequence[Record]) -> list[Awaitable]:
    """Give ``records`` to the producer; the futures of their acknowledgements."""
    producer, name = topic.app.producer, topic.get_topic_name()
    return [
        await producer.send(name, key, value, partition, None, headers) for key, value, partition, headers in records
    ]


async def produce(topic: faust.TopicT, records: Sequence[Record]) -> list:
    """Send ``records`` to ``topic``; the broker's acknowledgements, once all are in."""
    return [await future for future in await hand_over(topic, records)]
