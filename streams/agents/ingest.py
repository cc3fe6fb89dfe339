"""Ingest agents: one per input topic; raw records → engine inputs, repartitioned by key.

These serve producers that write to the input topics directly (the HTTP edge writes
engine-ready inputs to ``tocsin.signals`` itself). Each record is parsed with its arrival
time (the Kafka record timestamp), so a replay parses it exactly as the live run did.
Inputs go out one size-bounded record per partition (``streams.routing``). A
record's refused items go to the DLQ as one record, with every reason; an unexpected error
on one record dead-letters that record and the agent goes on (an exception escaping a
Faust agent would acknowledge the message and lose it).
"""

import logging
from collections.abc import Callable

import faust
from faust.types import EventT

from models.errors import Reason, Rejection
from models.limits import Limits
from models.parsers import Parsed, parse_alerts, parse_checks, parse_command, parse_reports
from models.policy import Policy
from streams import tracing
from streams.dlq import dead_letter
from streams.metrics import INGESTED
from streams.produce import hand_over
from streams.routing import signal_records

log = logging.getLogger(__name__)

Parser = Callable[[bytes, Limits, int, Policy], Parsed]

PARSERS: dict[str, Parser] = {
    "alerts": lambda raw, limits, now, policy: parse_alerts(raw, limits, now, policy.dedup_fields.get("generic", ())),
    "checks": lambda raw, limits, now, policy: parse_checks(raw, limits, now),
    "reports": lambda raw, limits, now, policy: parse_reports(raw, limits, now),
    "commands": lambda raw, limits, now, policy: parse_command(raw, limits, now),
}


def arrival_ms(event: EventT) -> int:
    """The record's Kafka timestamp in epoch ms: the input's arrival time."""
    return int(event.message.timestamp * 1000)


def register(
    app: faust.App,
    kind: str,
    source: faust.TopicT,
    signals: faust.TopicT,
    dlq: faust.TopicT,
    limits: Limits,
    policy: Policy,
    partitions: int,
    batch_size: int = 500,
    batch_seconds: float = 0.02,
) -> None:
    parse = PARSERS[kind]

    async def ingest_one(event: EventT, pending: list) -> None:
        """Parse one record and hand its output records to the producer (acks awaited later)."""
        now = arrival_ms(event)
        parsed = parse(event.value or b"", limits, now, policy)
        records, too_big = signal_records(parsed.inputs, now, policy, partitions)
        refused = parsed.rejections + too_big
        if refused:
            await dead_letter(dlq, event.value, refused, event)
        headers = tracing.kafka_headers(tracing.from_kafka(event.message.headers))
        pending += await hand_over(signals, [(None, value, partition, headers) for partition, value in records])
        INGESTED.labels(source.get_topic_name()).inc(len(parsed.inputs) - len(too_big))

    @app.agent(source, name=f"ingest-{kind}")
    async def ingest(stream: faust.StreamT) -> None:
        # A batch at a time: every record's output goes to the producer first, the acks are
        # awaited once, and only then does take_events acknowledge the batch.
        async for events in stream.take_events(batch_size, within=batch_seconds):
            pending: list = []
            for event in events:
                try:
                    await ingest_one(event, pending)
                except Exception as exc:  # one bad record must not stop the stream
                    message = event.message
                    log.exception("ingest failed on %s[%d]@%d", message.topic, message.partition, message.offset)
                    await dead_letter(dlq, event.value, Rejection(Reason.INTERNAL_ERROR, repr(exc)), event)
            for future in pending:
                await future
