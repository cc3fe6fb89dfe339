"""Ingest agents: one per input topic; raw records → engine inputs, repartitioned by key.

Each record is parsed with its arrival time (the Kafka record timestamp), so a replay
parses it exactly as the live run did. One output message per (record, key token) carries
all that record's inputs for the key: a whole Alertmanager group costs one message
downstream. Bad input goes to the DLQ with its reason; an unexpected error on one record
dead-letters that record and the agent goes on (an exception escaping a Faust agent would
acknowledge the message and lose it).
"""

import logging
from collections.abc import Callable

import faust
from faust.types import EventT

from models.command import Command
from models.engine import correlation_key, routing_key
from models.errors import Reason, Rejection
from models.limits import Limits
from models.parsers import Parsed, parse_alerts, parse_checks, parse_command, parse_reports
from models.parsers.result import Input
from models.policy import Policy
from streams import tracing
from streams.codec import encode_batch
from streams.dlq import dead_letter
from streams.metrics import INPUTS

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


def by_token(inputs: list[Input], policy: Policy) -> dict[str, tuple[str, list[Input]]]:
    """Inputs grouped by partition token, with the correlation key each token stands for."""
    grouped: dict[str, tuple[str, list[Input]]] = {}
    for item in inputs:
        key = "" if isinstance(item, Command) else correlation_key(item, policy)
        grouped.setdefault(routing_key(item, policy), (key, []))[1].append(item)
    return grouped


def register(
    app: faust.App,
    kind: str,
    source: faust.TopicT,
    signals: faust.TopicT,
    dlq: faust.TopicT,
    limits: Limits,
    policy: Policy,
) -> None:
    parse = PARSERS[kind]

    async def ingest_one(event: EventT) -> None:
        now = arrival_ms(event)
        parsed = parse(event.value or b"", limits, now, policy)
        for rejection in parsed.rejections:
            await dead_letter(dlq, event.value, rejection, event)
        headers = tracing.kafka_headers(tracing.from_kafka(event.message.headers))
        futures = [
            await signals.send(key=token, value=encode_batch(key, now, items), headers=headers)
            for token, (key, items) in by_token(parsed.inputs, policy).items()
        ]
        for future in futures:
            await future
        INPUTS.labels(source.get_topic_name(), "parsed").inc(len(parsed.inputs))

    @app.agent(source, name=f"ingest-{kind}")
    async def ingest(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                await ingest_one(event)
            except Exception as exc:  # one bad record must not stop the stream
                message = event.message
                log.exception("ingest failed on %s[%d]@%d", message.topic, message.partition, message.offset)
                await dead_letter(dlq, event.value, Rejection(Reason.INTERNAL_ERROR, repr(exc)), event)
