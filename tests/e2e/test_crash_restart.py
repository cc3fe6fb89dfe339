"""A worker killed with SIGKILL mid-stream and restarted loses and duplicates nothing.

The worker runs as ``tocsin worker`` in its own process (so it can be killed), on the
session's real Tansu broker, with its own chDB directory (read afterwards through a
helper process: chDB allows one data directory per process).

Around the rebalances that follow the kill, faust-streaming breaks off fetched batches
whose records aiokafka has already moved past; tocsin's transport fetches them again
(``streams/transport.py``), which the worker's ``tocsin_consumer_refetches_total`` shows.
A restarted worker must finish on its own: a worker that exits again (the stall guard
giving up with status 75, or a crash) fails the test. It asserts the guarantee itself:
every lifecycle event published and stored, none twice.

With the RocksDB store, the killed worker's local state may hold writes the changelog
never received; the restarted worker finds the running marker its predecessor left and
rebuilds its partitions from the changelog (``streams/local_state.py``).
"""

import asyncio
import signal
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from models.timestamps import format_ms
from streams import local_state
from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames
from tests.e2e.test_tocsin_up import dump, ready
from tests.support.processes import spawn_worker
from tests.support.stack import read_topic, read_until

pytestmark = pytest.mark.integration
SERVICES = 150


def start_worker(
    broker: EmbeddedBroker, data_dir: Path, app_id: str, prefix: str, port: int, store: str
) -> subprocess.Popen:
    return spawn_worker(broker.url, data_dir, port, store, "--app-id", app_id, "--topic-prefix", prefix)


def running_markers(data_dir: Path) -> list[Path]:
    return list(data_dir.rglob(local_state.RUNNING))


def wait_ready(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready(f"http://127.0.0.1:{port}"):
        assert time.monotonic() < deadline, "worker never became ready"
        time.sleep(0.2)


def alerts(now: int) -> list[bytes]:
    """Each service fires and resolves one alert: three lifecycle events per service."""
    bodies = []
    for phase in ("firing", "resolved"):
        for i in range(SERVICES):
            alert = {
                "status": phase,
                "labels": {"alertname": "Errors", "service": f"svc-{i:03d}"},
                "annotations": {"summary": "errors"},
                "startsAt": format_ms(now - 60_000),
                "endsAt": format_ms(now) if phase == "resolved" else "0001-01-01T00:00:00Z",
            }
            bodies.append(orjson.dumps({"version": "4", "status": phase, "alerts": [alert]}))
    return bodies


async def produce_all(bootstrap: str, topic: str, bodies: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for body in bodies:  # paced, so input is still arriving when the worker dies
            await producer.send_and_wait(topic, body, key=orjson.loads(body)["alerts"][0]["labels"]["service"].encode())
            await asyncio.sleep(0.01)
    finally:
        await producer.stop()


def metrics_of(port: int) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def all_events(expected: int):
    return lambda records: len({orjson.loads(r.value)["event_id"] for r in records}) >= expected


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_sigkill_mid_stream_then_restart(broker: EmbeddedBroker, tmp_path: Path, store: str) -> None:
    app_id, prefix, port = f"crash-{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}", free_port()
    names = TopicNames(prefix)
    expected = 3 * SERVICES
    worker = start_worker(broker, tmp_path, app_id, prefix, port, store)
    try:
        wait_ready(port)
        bodies = alerts(int(time.time() * 1000))
        producer = threading.Thread(
            target=lambda: asyncio.run(produce_all(broker.bootstrap_servers, names.alerts, bodies))
        )
        producer.start()  # input keeps arriving while the worker is killed and restarted
        # kill it while it is still working through the stream
        asyncio.run(read_topic(broker.bootstrap_servers, names.incidents, expected // 3, timeout=60))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_with = len(asyncio.run(read_topic(broker.bootstrap_servers, names.incidents, expected, timeout=1)))
        print(f"killed with {killed_with}/{expected} lifecycle events published")
        assert bool(running_markers(tmp_path)) == (store == "rocksdb://")

        worker = start_worker(broker, tmp_path, app_id, prefix, port, store)
        wait_ready(port)
        rebuilt = "did not stop cleanly" in (tmp_path / "worker.log").read_text()
        assert rebuilt == (store == "rocksdb://"), "a killed RocksDB worker's successor rebuilds from the changelog"
        producer.join()
        records: list = []
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            records = asyncio.run(read_until(broker.bootstrap_servers, names.incidents, all_events(expected), 5))
            if all_events(expected)(records):
                break
            assert worker.poll() is None, f"the restarted worker exited ({worker.returncode}): it must recover alone"
        refetched = "tocsin_consumer_refetches_total"
        refetches = [line for line in metrics_of(port).splitlines() if line.startswith(refetched)]
        print(f"complete without a supervisor restart; {refetches or 'no refetch'}")
        worker.send_signal(signal.SIGTERM)  # graceful: drains, so ClickHouse holds everything
        assert worker.wait(60) == 0
        assert not running_markers(tmp_path), "a clean stop removes the running marker"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    by_id: dict[str, set[bytes]] = defaultdict(set)
    for record in records:
        by_id[orjson.loads(record.value)["event_id"]].add(record.value)
    assert len(by_id) == expected, "every lifecycle event was published"
    assert all(len(values) == 1 for values in by_id.values()), "a duplicate on Kafka is a byte-identical re-send"

    rows = dump(tmp_path, "SELECT event_id, incident_id, seq, kind FROM tocsin.incident_events FINAL")
    assert len(rows) == expected and {r["event_id"] for r in rows} == set(by_id)
    per_incident: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        per_incident[row["incident_id"]].append(row["seq"])
    assert len(per_incident) == SERVICES
    assert all(sorted(seqs) == [1, 2, 3] for seqs in per_incident.values())
