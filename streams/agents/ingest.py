"""Ingest agent: raw payloads → normalized signals, repartitioned by correlation key.

One output message per (payload, key) carries all that payload's signals for the key, so
a whole Alertmanager group costs one message downstream. Bad input goes to the DLQ with
its reason; an unexpected error on one record dead-letters that record and the agent goes
on (an exception escaping a Faust agent would acknowledge the message and lose it).
"""

import logging
from collections import defaultdict

import faust
import orjson
from models.alertmanager import parse_webhook

from models.errors import Reason, Rejection
from models.limits import Limits
from models.signal import Signal
from streams.dlq import dead_letter

log = logging.getLogger(__name__)


def group_by_key(signals: list[Signal]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for signal in signals:
        grouped[signal.service].append(signal.to_dict())
    return grouped


def register(app: faust.App, alerts: faust.TopicT, signals: faust.TopicT, dlq: faust.TopicT, limits: Limits) -> None:
    @app.agent(alerts, name="ingest")
    async def ingest(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                result = parse_webhook(event.value or b"", limits)
                for rejection in result.rejections:
                    await dead_letter(dlq, event.value, rejection, event)
                futures = [
                    await signals.send(key=key, value=orjson.dumps(batch))
                    for key, batch in group_by_key(result.signals).items()
                ]
                for future in futures:
                    await future
            except Exception as exc:  # one bad record must not stop the stream
                log.exception(
                    "ingest failed on %s[%d]@%d", event.message.topic, event.message.partition, event.message.offset
                )
                await dead_letter(dlq, event.value, Rejection(Reason.INTERNAL_ERROR, repr(exc)), event)
