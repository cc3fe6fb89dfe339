"""``make bench``: latency at a steady rate, seen by an independent consumer.

A paced sender process posts webhooks of 100 alerts at 5,000 alerts/s (``TOCSIN_BENCH_RATE``)
for 60 s (``TOCSIN_BENCH_SECONDS``): 99 re-sends of a pool of 10k alerts over 200 services
(as Alertmanager repeats them; the pool's first delivery is sent before the steady phase)
and one probe alert for a service of its own, which opens an incident. For each probe:

- Kafka: from the HTTP 202 to the moment a plain aiokafka consumer (not tocsin) receives
  its ``opened`` event on ``tocsin.incidents``;
- ClickHouse: from the 202 to the row's ``inserted_at`` in ``incident_events``.

Prints one JSON line with p50/p99 of both and the rate actually sent.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer

from streams.metrics import ENGINE_INPUTS, by_label
from streams.topics import TopicNames
from tests.bench.workload import SERVICES, ZERO, as_webhook
from tests.support.stack import embedded_services, running_tocsin

RATE = int(os.environ.get("TOCSIN_BENCH_RATE", "5000"))
SECONDS = int(os.environ.get("TOCSIN_BENCH_SECONDS", "60"))
PER_REQUEST = 100


def _alert(name: str, service: str, starts: str) -> dict:
    labels = {"alertname": name, "service": service, "severity": "warning"}
    return {"status": "firing", "labels": labels, "annotations": {}, "startsAt": starts, "endsAt": ZERO}


def pool_of(starts: str) -> list[dict]:
    return [_alert(f"Alert{n:02d}", f"svc-{s:03d}", starts) for s in range(SERVICES) for n in range(50)]


def bodies(requests: int, pool: list[dict], starts: str) -> list[str]:
    """Webhooks of 99 re-sent alerts and one probe, ``probe-<index>``, each."""
    out = []
    for index in range(requests):
        repeats = [pool[(index * 99 + k) % len(pool)] for k in range(PER_REQUEST - 1)]
        out.append(as_webhook([*repeats, _alert("Probe", f"probe-{index}", starts)]))
    return out


def quantiles(values: list[float]) -> dict:
    cuts = statistics.quantiles(values, n=100) if len(values) > 1 else [values[0] if values else 0.0] * 99
    return {"p50": round(cuts[49], 3), "p99": round(cuts[98], 3), "max": round(max(values, default=0.0), 3)}


async def watch_opened(bootstrap: str, topic: str, probes: int, seen: dict[int, float], done: asyncio.Event) -> None:
    """Receive times of ``opened`` events for probe services, as a plain consumer sees them."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        while len(seen) < probes and not done.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            now = time.time()
            for records in batch.values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event["kind"] == "opened" and event["service"].startswith("probe-"):
                        seen.setdefault(int(event["service"][6:]), now)
    finally:
        await consumer.stop()


async def run_sender(
    url: str, payloads: list[str], workdir: Path, per_second: float = RATE / PER_REQUEST, requests: int = 0
) -> dict:
    """The paced sender in its own process; ``requests`` > len(payloads) cycles through them."""
    path = workdir / "latency-bodies.json"
    path.write_bytes(orjson.dumps(payloads))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.paced_sender",
        url,
        str(path),
        str(per_second),
        str(requests),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError("paced sender failed")
    return orjson.loads(out.splitlines()[-1])


async def warm_up(url: str, pool: list[dict]) -> None:
    """The pool's first delivery (10k new alerts, 200 incidents) before the steady phase."""
    before = sum(by_label(ENGINE_INPUTS).values())
    async with aiohttp.ClientSession() as session:
        for start in range(0, len(pool), 1000):
            async with session.post(url, data=as_webhook(pool[start : start + 1000])) as response:
                assert response.status == 202, response.status
    while sum(by_label(ENGINE_INPUTS).values()) - before < len(pool):
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # the sinks catch up too


def inserted(client, probes: int) -> dict[int, float]:
    rows = client.query(
        "SELECT service, toUnixTimestamp64Milli(min(inserted_at)) FROM tocsin.incident_events "
        "WHERE kind = 'opened' AND startsWith(service, 'probe-') GROUP BY service"
    ).result_rows
    return {int(service[6:]): ms / 1000 for service, ms in rows if int(service[6:]) < probes}


async def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="tocsin-bench-latency-"))
    requests = RATE * SECONDS // PER_REQUEST
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    pool = pool_of(starts)
    payloads = bodies(requests, pool, starts)
    with embedded_services(data) as (broker, client, settings):
        topic = TopicNames(settings.topic_prefix).incidents
        async with running_tocsin(settings, client):
            await warm_up(f"{settings.base_url}/v1/alertmanager", pool)
            seen: dict[int, float] = {}
            done = asyncio.Event()
            watcher = asyncio.create_task(watch_opened(broker.bootstrap_servers, topic, requests, seen, done))
            sent = await run_sender(f"{settings.base_url}/v1/alertmanager", payloads, data)
            deadline = time.monotonic() + 120
            while len(seen) < requests and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            stored: dict[int, float] = {}
            while len(stored) < requests and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                stored = inserted(client, requests)
            done.set()
            await watcher
    accepted = sent["accepted_at"]
    if os.environ.get("TOCSIN_BENCH_TIMELINE"):  # per second of sending: the worst probe
        worst: dict[int, float] = {}
        for i in seen:
            second = int(accepted[i] - accepted[0])
            worst[second] = max(worst.get(second, 0.0), seen[i] - accepted[i])
        print(orjson.dumps({str(k): round(v, 2) for k, v in sorted(worst.items())}).decode(), file=sys.stderr)
    to_kafka = [seen[i] - accepted[i] for i in seen]
    to_clickhouse = [stored[i] - accepted[i] for i in stored]
    print(
        orjson.dumps(
            {
                "bench": "latency_at_steady_rate",
                "alerts_per_s_target": RATE,
                "alerts_per_s_sent": round(requests * PER_REQUEST / sent["seconds"]),
                "seconds": SECONDS,
                "probes": requests,
                "late_request_starts": sent["late_starts"],
                "http_202_to_kafka_event_s": quantiles(to_kafka),
                "http_202_to_clickhouse_row_s": quantiles(to_clickhouse),
                "probes_missing_on_kafka": requests - len(seen),
                "probes_missing_in_clickhouse": requests - len(stored),
            }
        ).decode()
    )


if __name__ == "__main__":
    asyncio.run(main())
