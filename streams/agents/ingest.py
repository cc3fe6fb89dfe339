"""Ingest agents: one per input topic; raw records → engine inputs, repartitioned by key.

These serve producers that write to the input topics directly (the HTTP edge writes
engine-ready inputs to ``tocsin.signals`` itself). Each record is parsed with its arrival
time (the Kafka record timestamp), so a replay parses it exactly as the live run did.
A batch of records goes out as one size-bounded record per partition (``streams.routing``),
each group of inputs with its source record's arrival time and trace id. A record's
refused items go to the DLQ as one record, with every reason; an unexpected error
on one record dead-letters that record and the agent goes on (an exception escaping a
Faust agent would acknowledge the message and lose it).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import faust
from faust.types import EventT

from models.errors import Reason, Rejection
from models.limits import Limits
from models.parsers import Parsed, parse_alerts, parse_checks, parse_command, parse_reports
from models.parsers.alertmanager_events import parse_recorded_events
from models.parsers.changes import parse_changes
from models.parsers.pagerduty import parse_events_api
from models.policy import Policy
from streams import tracing
from streams.cloudevents_binding import KAFKA_PREFIX, structured
from streams.dlq import dead_letter
from streams.metrics import INGESTED
from streams.produce import produce
from streams.routing import Source, batch_records, too_large

log = logging.getLogger(__name__)

Parser = Callable[[bytes, Limits, int, Policy], Parsed]

PARSERS: dict[str, Parser] = {
    "alerts": lambda raw, limits, now, policy: parse_alerts(
        raw, limits, now, policy.dedup_fields, policy.pagerduty_routes, policy.cloudevent_types
    ),
    "pagerduty": lambda raw, limits, now, policy: parse_events_api(
        raw, limits, now, policy.dedup_fields.get("pagerduty", ()), policy.pagerduty_routes
    ),
    "checks": lambda raw, limits, now, policy: parse_checks(raw, limits, now),
    "reports": lambda raw, limits, now, policy: parse_reports(raw, limits, now),
    "commands": lambda raw, limits, now, policy: parse_command(raw, limits, now),
    "changes": lambda raw, limits, now, policy: parse_changes(raw, limits, now, policy.pagerduty_routes),
    "alertmanager-events": lambda raw, limits, now, policy: parse_recorded_events(raw, limits, now),
}


def arrival_ms(event: EventT) -> int:
    """The record's Kafka timestamp in epoch ms: the input's arrival time."""
    return int(event.message.timestamp * 1000)


@dataclass
class IngestBatch:
    """What a batch of source records yields: inputs by source, refusals by source record."""

    sources: list[Source] = field(default_factory=list)
    refused: dict[int, tuple[EventT, list[Rejection]]] = field(default_factory=dict)
    owners: dict[int, EventT] = field(default_factory=dict)  # id(input) → its source record


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

    topic = source.get_topic_name()

    def parse_one(event: EventT, batch: IngestBatch) -> None:
        now = arrival_ms(event)
        value = event.value or b""
        if kind == "alerts":  # a CloudEvent in binary mode carries its attributes in headers
            value = structured(event.message.headers, value, KAFKA_PREFIX) or value
        parsed = parse(value, limits, now, policy)
        batch.sources.append((parsed.inputs, now, tracing.from_kafka(event.message.headers)))
        batch.refused[id(event)] = (event, list(parsed.rejections))
        batch.owners.update((id(item), event) for item in parsed.inputs)

    async def ingest_batch(events: list[EventT]) -> None:
        batch = IngestBatch()
        for event in events:
            try:
                parse_one(event, batch)
            except Exception as exc:  # one bad record must not stop the stream
                message = event.message
                log.exception("ingest failed on %s[%d]@%d", message.topic, message.partition, message.offset)
                batch.refused[id(event)] = (event, [Rejection(Reason.INTERNAL_ERROR, repr(exc))])
        records, too_big = batch_records(batch.sources, policy, partitions)
        for item in too_big:
            batch.refused[id(batch.owners[id(item)])][1].append(too_large(item))
        for event, rejections in batch.refused.values():
            if rejections:
                await dead_letter(dlq, event.value, rejections, event)
        await produce(signals, [(None, value, partition, None) for partition, value in records])
        INGESTED.labels(topic).inc(sum(len(inputs) for inputs, _, _ in batch.sources) - len(too_big))

    @app.agent(source, name=f"ingest-{kind}")
    async def ingest(stream: faust.StreamT) -> None:
        # A batch at a time: its inputs go out as one record per partition, the acks are
        # awaited once, and only then does take_events acknowledge the batch.
        async for events in stream.take_events(batch_size, within=batch_seconds):
            await ingest_batch(events)
