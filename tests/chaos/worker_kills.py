"""``make chaos`` — worker kills: two engine workers and a sink, one engine SIGKILLed five
times while 100,000 alerts stream in.

Per seed: the embedded broker; ``tocsin worker --roles sink,api`` on chDB; two
``tocsin worker --roles ingest,engine`` on RocksDB. Alerts are produced straight onto
``tocsin.alerts`` (webhook groups of 10, keyed by service, explicit timestamps) at about a
third of the Kafka path's rate; at five seeded random moments one engine worker (seeded
choice) is killed with SIGKILL and started again at once. The lifecycle topic is then
compared with the pure engine's run over the same inputs (``tests/chaos/verdict.py``), and
ClickHouse (``GET /v1/incidents``) must reach every incident's final ``seq``.

Prints one JSON line per seed: inputs, lost, duplicated, out_of_order, unexpected,
differing (0 means the final states equal the single-process run's), kills (and how many
hit a worker that owned partitions then), and how long the pipeline took to settle after
the last input.
"""

import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from models.policy import load_policy
from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames, ensure_topics
from tests.bench.workload import alert_messages
from tests.chaos.verdict import reference, verdict
from tests.support.processes import readyz, spawn_worker
from tests.support.stack import read_until

INPUTS = 100_000
RATE = 1_500  # alerts/s: about 0.3× what one worker takes on the Kafka path here
KILLS = 5
PARTITIONS = 4
SEEDS = (1, 2, 3)


def workers(broker: EmbeddedBroker, data: Path) -> dict:
    """Start the sink and both engines; their ports, data dirs and processes."""
    sink_port, ports = free_port(), {"a": free_port(), "b": free_port()}
    sink = spawn_worker(broker.url, data / "sink", sink_port, "memory://", "--roles", "sink,api", *common())
    engines = {name: start_engine(broker, data, name, port) for name, port in ports.items()}
    return {"sink": sink, "sink_port": sink_port, "engines": engines, "ports": ports, "kills": []}


def common() -> list[str]:
    return ["--partitions", str(PARTITIONS)]


def start_engine(broker: EmbeddedBroker, data: Path, name: str, port: int) -> object:
    return spawn_worker(broker.url, data / name, port, "rocksdb://", "--roles", "ingest,engine", *common())


def wait_ready(ports: list[int], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(readyz(port).get("ready") for port in ports):
        if time.monotonic() > deadline:
            raise TimeoutError(f"workers on {ports} not ready")
        time.sleep(0.2)


def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes, int, int]]) -> None:
    """Paced at ``RATE`` alerts/s; each record carries its own timestamp (the arrival time)."""

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
        await producer.start()
        try:
            started, sent, pending = time.monotonic(), 0, []
            for key, body, count, at in messages:
                pending.append(await producer.send(topic, body, key=key, timestamp_ms=at))
                sent += count
                if len(pending) >= 50:
                    await asyncio.gather(*pending)
                    pending = []
                    await asyncio.sleep(max(0.0, started + sent / RATE - time.monotonic()))
            await asyncio.gather(*pending)
        finally:
            await producer.stop()

    asyncio.run(run())


def incidents_seq(port: int) -> dict[str, int]:
    """Each incident's latest ``seq`` as ClickHouse has it, through the api role."""
    url = f"http://127.0.0.1:{port}/v1/incidents?limit=10000"
    with urllib.request.urlopen(url, timeout=30) as response:
        return {i["incident_id"]: i["seq"] for i in orjson.loads(response.read())["incidents"]}


def final_seqs(expected: dict[str, dict]) -> dict[str, int]:
    seqs: dict[str, int] = {}
    for event in expected.values():
        seqs[event["incident_id"]] = max(event["seq"], seqs.get(event["incident_id"], 0))
    return seqs


def run(seed: int) -> dict:
    rnd = random.Random(seed)
    start_ms = int(time.time() * 1000)
    messages = [(k, b, n, start_ms + i) for i, (k, b, n) in enumerate(alert_messages(INPUTS, start_ms, seed=seed))]
    expected = reference([("alerts", body, at) for _, body, _, at in messages], load_policy())
    names = TopicNames()
    data = Path(tempfile.mkdtemp(prefix="tocsin-kills-"))
    with EmbeddedBroker(log_file=data / "broker.log") as broker:
        asyncio.run(ensure_topics(broker.bootstrap_servers, names, PARTITIONS))
        stack = workers(broker, data)
        try:
            wait_ready([stack["sink_port"], *stack["ports"].values()])
            producer = threading.Thread(target=produce, args=(broker.bootstrap_servers, names.alerts, messages))
            producer.start()
            started, duration = time.monotonic(), INPUTS / RATE
            for at in sorted(rnd.uniform(0.05, 0.9) * duration for _ in range(KILLS)):
                time.sleep(max(0.0, started + at - time.monotonic()))
                victim = rnd.choice(sorted(stack["engines"]))
                owning = readyz(stack["ports"][victim]).get("partitions", {}).get(names.signals)
                stack["kills"].append(bool(owning))
                stack["engines"][victim].kill()
                stack["engines"][victim].wait()
                stack["engines"][victim] = start_engine(broker, data, victim, stack["ports"][victim])
            producer.join()
            produced = time.monotonic()
            done = lambda records: len({orjson.loads(r.value)["event_id"] for r in records}) >= len(expected)  # noqa: E731
            records = asyncio.run(read_until(broker.bootstrap_servers, names.incidents, done, timeout=120))
            settled_kafka = time.monotonic() - produced
            want = final_seqs(expected)
            deadline = time.monotonic() + 60
            while (stored := incidents_seq(stack["sink_port"])) != want and time.monotonic() < deadline:
                time.sleep(1)
            settled_clickhouse = time.monotonic() - produced
            exits = {name: p.poll() for name, p in stack["engines"].items() if p.poll() is not None}
            reread = asyncio.run(read_until(broker.bootstrap_servers, names.incidents, done, timeout=10))
        finally:
            for process in [stack["sink"], *stack["engines"].values()]:
                process.kill()
                process.wait()
    found = verdict([r.value for r in records], expected)
    if any(found[k] for k in ("lost", "duplicated", "out_of_order", "unexpected", "differing")):
        found["kept"] = str(data)
        diagnose(data, records, reread, expected)
    else:
        shutil.rmtree(data, ignore_errors=True)
    return {
        "scenario": "worker_kills",
        "seed": seed,
        "inputs": INPUTS,
        **found,
        "kills": len(stack["kills"]),
        "kills_while_owning_partitions": sum(stack["kills"]),
        "incidents": len(want),
        "clickhouse_incidents_at_final_seq": sum(stored.get(i) == s for i, s in want.items()),
        "clickhouse_stale_or_missing": sum(stored.get(i) != s for i, s in want.items()),
        "settled_kafka_s": round(settled_kafka, 1),
        "settled_clickhouse_s": round(settled_clickhouse, 1),
        "unexpected_exits": exits,
    }


def diagnose(data: Path, records: list, reread: list, expected: dict[str, dict]) -> None:
    """What went wrong, for the next engineer: ``diagnosis.json`` beside the workers' logs."""
    published = [orjson.loads(r.value) for r in records]
    ids = {e["event_id"] for e in published}
    lost = [e for i, e in expected.items() if i not in ids]
    stored = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.chdb_dump",
            str(data / "sink" / "clickhouse"),
            "SELECT DISTINCT event_id FROM tocsin.incident_events",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    in_clickhouse = {orjson.loads(line)["event_id"] for line in stored.splitlines()}
    odd = {e["incident_id"] for e in lost} | {e["incident_id"] for e in published if e["event_id"] not in expected}
    report = {
        "lost": lost,
        "lost_in_clickhouse": sorted(e["event_id"] for e in lost if e["event_id"] in in_clickhouse),
        "lost_in_a_second_read": sorted(
            e["event_id"] for e in lost if e["event_id"] in {orjson.loads(r.value)["event_id"] for r in reread}
        ),
        "incidents": {
            incident: {
                "published": [
                    (e["seq"], e["kind"], e["fingerprint"], e["at"]) for e in published if e["incident_id"] == incident
                ],
                "expected": sorted(
                    (e["seq"], e["kind"], e["fingerprint"], e["at"])
                    for e in expected.values()
                    if e["incident_id"] == incident
                ),
            }
            for incident in sorted(odd)
        },
    }
    (data / "diagnosis.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))


def main() -> int:
    seeds = [int(s) for s in sys.argv[1:]] or list(SEEDS)
    failed = False
    for seed in seeds:
        result = run(seed)
        print(json.dumps(result), flush=True)
        bad = ("lost", "duplicated", "out_of_order", "unexpected", "differing", "clickhouse_stale_or_missing")
        failed |= any(result[k] for k in bad) or bool(result["unexpected_exits"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
