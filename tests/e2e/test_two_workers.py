"""Two engine workers share the partitions; when one is killed the other takes its keys over,
and the timers of those keys fire there, once.

Both run as ``tocsin worker --roles ingest,engine`` processes on the session's real broker
with the RocksDB store, so the hand-over goes through the changelog like in production
(no ClickHouse role: the test reads the lifecycle topic). Each P0 incident has a 15 s
response target; worker A is killed (SIGKILL) once every incident is open, before any
deadline, so A's breaches can only come from B.
"""

import asyncio
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from aiokafka import TopicPartition

from models.timestamps import format_ms
from streams.end_offsets import EndOffsets
from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames, ensure_topics
from tests.support.processes import readyz, spawn_worker
from tests.support.stack import read_until

pytestmark = pytest.mark.integration
SERVICES = 40
PARTITIONS = 4
POLICY = "sla:\n  P0: {response: 15s, resolution: 1h}\n"


def start(broker: EmbeddedBroker, data: Path, app_id: str, prefix: str, port: int, policy: Path) -> subprocess.Popen:
    options = ["--roles", "ingest,engine", "--partitions", str(PARTITIONS), "--app-id", app_id]
    options += ["--topic-prefix", prefix, "--policy", str(policy)]
    return spawn_worker(broker.url, data, port, "rocksdb://", *options)


def owned(port: int) -> tuple[bool, list[int]]:
    """Whether the worker is ready, and the signals partitions it owns."""
    body = readyz(port)
    signals = [p for topic, p in body.get("partitions", {}).items() if topic.endswith(".signals")]
    return body.get("ready", False), signals[0] if signals else []


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def critical_alerts(now: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "version": "4",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "Down", "service": f"svc-{i:02d}", "severity": "critical"},
                        "startsAt": format_ms(now),
                    }
                ],
            }
        )
        for i in range(SERVICES)
    ]


async def produce(bootstrap: str, topic: str, bodies: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await asyncio.gather(*[producer.send_and_wait(topic, body) for body in bodies])
    finally:
        await producer.stop()


def events(broker: EmbeddedBroker, topic: str, done: object, timeout: float) -> list[dict]:
    records = asyncio.run(read_until(broker.bootstrap_servers, topic, done, timeout))
    return [orjson.loads(r.value) for r in records]


def signal_ends(broker: EmbeddedBroker, names: TopicNames) -> dict:
    """End offsets of the signals partitions: ticks are records there."""
    tps = [TopicPartition(names.signals, p) for p in range(PARTITIONS)]

    async def read() -> dict:
        async with EndOffsets(broker.bootstrap_servers) as ends:
            return await ends.of(tps)

    return asyncio.run(read())


def kinds(values: list[dict], kind: str) -> dict[str, set[str]]:
    """Per incident, the distinct event ids of ``kind``."""
    found: dict[str, set[str]] = defaultdict(set)
    for value in values:
        if value["kind"] == kind:
            found[value["incident_id"]].add(value["event_id"])
    return found


def test_two_workers_share_partitions_and_take_over_timers(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app_id, prefix = f"two-{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    names = TopicNames(prefix)
    asyncio.run(ensure_topics(broker.bootstrap_servers, names, PARTITIONS))
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    ports = free_port(), free_port()
    a = start(broker, tmp_path / "a", app_id, prefix, ports[0], policy)
    b = start(broker, tmp_path / "b", app_id, prefix, ports[1], policy)
    try:
        shares: list = []

        def shared() -> bool:
            shares[:] = [owned(port) for port in ports]
            (ready_a, parts_a), (ready_b, parts_b) = shares
            return ready_a and ready_b and bool(parts_a) and bool(parts_b)

        wait_until(shared, 90, "both workers ready, each owning signals partitions")
        (_, parts_a), (_, parts_b) = shares
        assert sorted(parts_a + parts_b) == list(range(PARTITIONS)), f"disjoint and complete: {shares}"

        detected = time.time()
        asyncio.run(produce(broker.bootstrap_servers, names.alerts, critical_alerts(int(detected * 1000))))
        opened = kinds(events(broker, names.incidents, lambda r: len(r) >= SERVICES, 30), "opened")
        assert len(opened) == SERVICES
        a.send_signal(signal.SIGKILL)
        a.wait()
        killed_at = time.monotonic()
        assert time.time() < detected + 15, "A died before any response deadline"

        wait_until(lambda: owned(ports[1]) == (True, list(range(PARTITIONS))), 60, "B owning every partition")
        print(f"B owns every partition {time.monotonic() - killed_at:.1f}s after A was killed")
        breached = lambda r: len(kinds([orjson.loads(x.value) for x in r], "sla_breached")) >= SERVICES  # noqa: E731
        values = events(broker, names.incidents, breached, 60)
        ticks_before = signal_ends(broker, names)
        time.sleep(3)  # further ticks on B must not fire the breaches again …
        values = events(broker, names.incidents, lambda r: False, 3)
        ticked = {tp: end - ticks_before[tp] for tp, end in signal_ends(broker, names).items()}
        assert all(n >= 2 for n in ticked.values()), f"… and B did tick every partition meanwhile: {ticked}"
        assert b.poll() is None, "B kept running"
    finally:
        for process in (a, b):
            if process.poll() is None:
                process.kill()
                process.wait()

    breaches = kinds(values, "sla_breached")
    assert set(breaches) == set(opened), "every incident's response breach fired, A's keys on B"
    assert all(len(ids) == 1 for ids in breaches.values()), "each breach fired once (one event id)"
    by_id: dict[str, set[bytes]] = defaultdict(set)
    for value in values:
        by_id[value["event_id"]].add(orjson.dumps(value))
    assert all(len(copies) == 1 for copies in by_id.values()), "a re-sent event is byte-identical"
