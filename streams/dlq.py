"""The dead-letter topic: rejected input, verbatim, with a machine-readable reason.

The record value is the input exactly as received; the reason and the input's origin
travel in headers, so a consumer can replay it after a fix without re-encoding.
"""

import logging

import faust
from faust.types import EventT

from models.errors import Rejection
from streams import tracing
from streams.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)


def dlq_headers(rejection: Rejection, event: EventT | None) -> list[tuple[str, bytes]]:
    headers = [("reason", str(rejection.reason).encode()), ("detail", rejection.detail[:1024].encode())]
    if rejection.index is not None:
        headers.append(("index", str(rejection.index).encode()))
    if event is not None:
        message = event.message
        headers += [
            ("source_topic", message.topic.encode()),
            ("source_partition", str(message.partition).encode()),
            ("source_offset", str(message.offset).encode()),
            *tracing.kafka_headers(tracing.from_kafka(message.headers)),
        ]
    return headers


def log_context(rejection: Rejection, event: EventT | None) -> dict[str, object]:
    context: dict[str, object] = {"reason": str(rejection.reason), "source_topic": "http"}
    if event is not None:
        message = event.message
        context.update(
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            trace_id=tracing.from_kafka(message.headers),
        )
    return context


async def dead_letter(
    topic: faust.TopicT, raw: bytes | None, rejection: Rejection, event: EventT | None = None
) -> None:
    """Publish ``raw`` to the DLQ and wait for the broker's acknowledgement."""
    context = log_context(rejection, event)
    log.warning("dead-lettered input: %s (%s)", rejection.reason, rejection.detail[:200], extra=context)
    DEAD_LETTERS.labels(context["source_topic"], str(rejection.reason)).inc()
    future = await topic.send(value=raw or b"", headers=dlq_headers(rejection, event))
    await future
