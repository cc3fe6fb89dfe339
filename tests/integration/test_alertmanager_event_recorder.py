"""A team already running Alertmanager's event recorder (Kafka output, JSON) gets incidents
without a webhook: ``--event-recorder-topic`` makes a worker read that topic.

The records are the fixture's (built from the recorder's documented protojson ``Event``),
produced as Alertmanager's Kafka output does (one event per record, keyed by instance);
Alertmanager 0.33's recorder itself is not packaged here.
"""

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames, ensure_topics
from tests.conftest import fixture_bytes
from tests.support.processes import readyz, spawn_worker
from tests.support.stack import read_until

pytestmark = pytest.mark.integration


async def record_events(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for line in lines:
            await producer.send_and_wait(topic, line, key=b"am-0")
    finally:
        await producer.stop()


def test_recorded_alerts_open_and_resolve_an_incident(broker: EmbeddedBroker, tmp_path: Path) -> None:
    prefix, recorder = f"r{uuid.uuid4().hex[:8]}", f"alertmanager.events.{uuid.uuid4().hex[:6]}"
    names = TopicNames(prefix)
    asyncio.run(ensure_topics(broker.bootstrap_servers, names, 2))
    lines = fixture_bytes("alertmanager-event-recorder.jsonl").splitlines()
    asyncio.run(record_events(broker.bootstrap_servers, recorder, lines))
    port = free_port()
    options = ["--roles", "ingest,engine", "--topic-prefix", prefix, "--app-id", prefix]
    worker = spawn_worker(broker.url, tmp_path, port, "memory://", *options, "--event-recorder-topic", recorder)
    try:

        def done(records: list) -> bool:
            return any(orjson.loads(r.value)["kind"] == "resolved" for r in records)

        records = asyncio.run(read_until(broker.bootstrap_servers, names.incidents, done, 90))
        events = [orjson.loads(r.value) for r in records]
        assert readyz(port).get("ready"), "the worker ran"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "opened" and kinds[-1] == "resolved", kinds
    opened = events[0]
    assert (opened["service"] == "checkout" and opened["severity"] == "P1") or opened["severity"].startswith("P")
    assert opened["fingerprint"] == "1c5d859e845f39a3", "Alertmanager's fingerprint, as its webhooks carry"
    assert opened["links"]["runbook"] == "https://runbooks.example/checkout-5xx"
    assert events[-1]["resolved_at"].startswith("2026-11-30T10:20:00")
