"""Correlate agent: applies the incident engine per correlation key, state in a Faust table.

Order matters for crash safety: lifecycle events are published and acknowledged *before*
the new state is written to the table. A crash in between replays the input against the
old state and re-emits byte-identical events (same ``event_id``), which downstream
collapses; the reverse order could lose them.
"""

import logging

import faust
import orjson

from models.engine import step
from models.errors import Reason, Rejection
from models.incident import KeyState
from models.signal import Signal
from streams.dlq import dead_letter

log = logging.getLogger(__name__)

#: How correlation keys are encoded on the signals topic and the table changelog; both must
#: match so that a key lands on the same partition in each.
KEY_SERIALIZER = "json"


def incident_table(app: faust.App, partitions: int) -> faust.Table:
    # use_partitioner: the changelog partition follows the key bytes, exactly as the producer
    # partitioned the signals topic (same JSON key encoding), so recovery restores each key
    # on the partition that owns it.
    return app.Table(
        "incidents-by-key",
        partitions=partitions,
        schema=faust.Schema(key_type=str, key_serializer=KEY_SERIALIZER, value_serializer="json"),
        use_partitioner=True,
    )


def register(
    app: faust.App, signals: faust.TopicT, incidents: faust.TopicT, dlq: faust.TopicT, table: faust.Table
) -> None:
    @app.agent(signals, name="correlate")
    async def correlate(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                key = event.key
                state = KeyState.from_dict(table.get(key))
                emitted = []
                for data in orjson.loads(event.value):
                    state, events = step(state, key, Signal.from_dict(data))
                    emitted += events
                futures = [await incidents.send(key=e.incident_id, value=orjson.dumps(e.to_dict())) for e in emitted]
                for future in futures:
                    await future
                table[key] = state.to_dict()
            except Exception as exc:  # one bad record must not stop the stream
                log.exception("correlate failed on offset %d", event.message.offset)
                await dead_letter(dlq, event.value, Rejection(Reason.INTERNAL_ERROR, repr(exc)), event)
