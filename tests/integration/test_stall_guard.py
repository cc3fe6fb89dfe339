"""The stall guard re-reads a partition whose fetched records were skipped.

The wedge is made the way faust-streaming used to make it: records fetched by aiokafka
never reach the streams, and aiokafka's position has moved past them. Here the partition is
taken out of Faust's active set while a record arrives, aiokafka is sought past it, and the
partition is handed back: nothing would ever fetch that record again but the guard.
"""

import asyncio

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP

from models.timestamps import format_ms
from streams.settings import Settings
from streams.stall_guard import STALLS
from streams.topics import TopicNames
from tests.integration.test_topology import MIN, kinds_for, now_ms
from tests.support.stack import running_tocsin, wait_for

pytestmark = pytest.mark.integration


def test_a_wedged_partition_is_read_again(settings: Settings, clickhouse) -> None:
    settings = settings.with_(stall_check_seconds=0.5)
    names = TopicNames(settings.topic_prefix)
    tp = TP(names.alerts, 0)
    alert = {"service": "ledger", "title": "balance drift", "starts_at": format_ms(now_ms() - MIN)}

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse) as app:
            consumer = app.consumer
            before = STALLS.labels(names.alerts)._value.get()
            consumer.pause_partitions({tp})
            producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
            await producer.start()
            try:
                sent = await producer.send_and_wait(names.alerts, orjson.dumps(alert), partition=0)
            finally:
                await producer.stop()
            await consumer._seek(tp, sent.offset + 1)  # aiokafka moves on; Faust's offsets stay behind
            consumer.resume_partitions({tp})

            rows = await kinds_for(clickhouse, settings, "ledger", "opened", timeout=30)
            assert [(r["kind"], r["service"]) for r in rows] == [("opened", "ledger")]
            await wait_for(lambda: STALLS.labels(names.alerts)._value.get() > before, 5, "a stall re-read")

    asyncio.run(scenario())
