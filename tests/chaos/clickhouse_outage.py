"""``make chaos`` — ClickHouse outage: every insert fails for 60 s while 2,000 alerts/s arrive.

tocsin runs in this process on the embedded broker and chDB. chDB runs inside the process
and cannot be stopped on its own, so the outage is injected: the sinks' client refuses
every insert with the driver's own ``OperationalError`` while it lasts
(``tests/support/outage.py``); the rest is real. A paced sender process posts webhooks of
100 alerts (99 re-sends of a pool, one alert opening an incident) for 30 s before, 60 s
during and 30 s after the outage.

Prints one JSON line: inputs, lost and duplicated (``signals`` rows against accepted
alerts; ``incident_events`` rows against the events on ``tocsin.incidents``), out_of_order
(per incident on the topic), RSS growth from the outage's start to the end of the drain,
and how long after recovery ClickHouse held everything.
"""

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from models.timestamps import format_ms
from sinks.clickhouse.writer import EventWriter
from streams.topics import TopicNames
from tests.bench.bench_latency import bodies, pool_of, run_sender, warm_up
from tests.chaos.verdict import out_of_order
from tests.support.outage import OutageProxy, rss_mb
from tests.support.stack import embedded_services, read_until, running_tocsin

RATE = 2_000
BEFORE, OUTAGE, AFTER = 30, 60, 30
PER_REQUEST = 100
DRAIN_LIMIT = 300


def stored(client: object, table: str, column: str) -> tuple[int, int]:
    """Rows and distinct ids in ``table`` (no FINAL: a row written twice counts twice)."""
    return tuple(client.query(f"SELECT count(), uniqExact({column}) FROM tocsin.{table}").result_rows[0])


async def outage(proxy: OutageProxy, samples: list[float], marks: dict) -> None:
    await asyncio.sleep(BEFORE)
    marks["down"], marks["rss_down"] = time.monotonic(), rss_mb()
    proxy.down = True
    await asyncio.sleep(OUTAGE)
    proxy.down = False
    marks["up"] = time.monotonic()


async def sample_rss(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(rss_mb())
        await asyncio.sleep(0.5)


async def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="tocsin-chaos-outage-"))
    starts = format_ms(int(time.time() * 1000) - 60_000)
    pool = pool_of(starts)
    requests = RATE * (BEFORE + OUTAGE + AFTER) // PER_REQUEST
    payloads = bodies(requests, pool, starts)
    with embedded_services(data) as (broker, client, settings):
        proxy = OutageProxy(client)
        writer = EventWriter(proxy, settings.database, max_backoff=5.0)
        url = f"{settings.base_url}/v1/alertmanager"
        async with running_tocsin(settings, client, writer=writer):
            await warm_up(url, pool)
            samples: list[float] = []
            marks: dict = {}
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(samples, stop))
            fault = asyncio.create_task(outage(proxy, samples, marks))
            sent = await run_sender(url, payloads, data, RATE / PER_REQUEST)
            await fault
            inputs = len(pool) + PER_REQUEST * len(sent["accepted_at"])
            topic = TopicNames(settings.topic_prefix).incidents
            published = await read_until(broker.bootstrap_servers, topic, lambda r: False, timeout=5)
            event_ids = {json.loads(r.value)["event_id"] for r in published}
            deadline = marks["up"] + DRAIN_LIMIT
            while time.monotonic() < deadline:
                signals, events = stored(client, "signals", "signal_id"), stored(client, "incident_events", "event_id")
                if signals[1] >= inputs and events[1] >= len(event_ids):
                    break
                await asyncio.sleep(1)
            drained = time.monotonic() - marks["up"]
            stop.set()
            await sampler
    result = {
        "scenario": "clickhouse_outage",
        "inputs": inputs,
        "outage_s": OUTAGE,
        "lost": (inputs - signals[1]) + (len(event_ids) - events[1]),
        "duplicated": (signals[0] - signals[1]) + (events[0] - events[1]),
        "out_of_order": out_of_order([r.value for r in published]),
        "signals_rows": signals[0],
        "events_published": len(event_ids),
        "events_rows": events[0],
        "rss_growth_mb": round(max(samples) - marks["rss_down"], 1),
        "rss_at_outage_mb": round(marks["rss_down"], 1),
        "drained_after_recovery_s": round(drained, 1),
        "sent_alerts_per_s": round(PER_REQUEST * len(sent["accepted_at"]) / sent["seconds"]),
    }
    print(json.dumps(result), flush=True)
    ok = not result["lost"] and not result["duplicated"] and not result["out_of_order"]
    return 0 if ok and result["rss_growth_mb"] <= 150 and drained <= 120 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
