"""``make chaos`` — soak: 30 minutes at 2,000 alerts/s over HTTP (``TOCSIN_SOAK_MINUTES``).

tocsin runs in this process on the embedded broker and chDB; a paced sender process posts
webhooks of 100 alerts (99 re-sends of a 10k-alert pool over 200 services and one alert of
one of 1,200 probe services; the bodies repeat every minute), the steady load of an
Alertmanager re-sending its groups. RSS is sampled
every 10 s; its growth rate is the least-squares slope after the first five minutes.

Prints one JSON line: inputs, lost (accepted alerts without a ``signals`` row),
duplicated (event ids published with different contents, or stored twice in ClickHouse)
and out_of_order (per incident, by ``seq``, on ``tocsin.incidents``), RSS at start and
end, growth in MB/min, stall re-reads and re-fetches, and the rate sent.
Expected: nothing lost, duplicated or out of order, growth < 1 MB/min, no stall re-read.
"""

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import TopicPartition

from models.timestamps import format_ms
from streams.end_offsets import EndOffsets
from streams.metrics import by_label
from streams.settings import Settings
from streams.stall_guard import STALLS
from streams.topics import TopicNames
from streams.transport import REFETCHES
from tests.bench.bench_latency import bodies, pool_of, run_sender, warm_up
from tests.chaos.verdict import out_of_order, verdict
from tests.support.outage import rss_mb
from tests.support.stack import embedded_services, read_until, running_tocsin

MINUTES = float(os.environ.get("TOCSIN_SOAK_MINUTES", "30"))
RATE = 2_000
PER_REQUEST = 100
CYCLE = 1_200  # distinct request bodies: one minute at this rate, then they repeat
WARM_MINUTES = 5


async def sample(samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        samples.append(((time.monotonic() - started) / 60, rss_mb()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 10)


def slope(samples: list[tuple[float, float]]) -> float:
    """MB per minute after the warm-up (all samples when the run is shorter)."""
    late = [s for s in samples if s[0] >= min(WARM_MINUTES, MINUTES / 3)]
    if len(late) < 2:
        return 0.0
    return statistics.linear_regression([m for m, _ in late], [r for _, r in late]).slope


async def lifecycle_topic(settings: Settings) -> list[bytes]:
    """Every record value on ``tocsin.incidents``, in partition order."""
    topic = TopicNames(settings.topic_prefix).incidents
    async with EndOffsets(settings.bootstrap_servers) as ends:
        total = sum((await ends.of([TopicPartition(topic, p) for p in range(settings.partitions)])).values())
    records = await read_until(settings.bootstrap_servers, topic, lambda got: len(got) >= total, 300)
    return [record.value for record in records]


async def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="tocsin-chaos-soak-"))
    starts = format_ms(int(time.time() * 1000) - 60_000)
    pool = pool_of(starts)
    payloads = bodies(CYCLE, pool, starts)
    requests = int(MINUTES * 60 * RATE / PER_REQUEST)
    with embedded_services(data) as (_, client, settings):
        async with running_tocsin(settings, client):
            url = f"{settings.base_url}/v1/alertmanager"
            await warm_up(url, pool)
            samples: list[tuple[float, float]] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample(samples, stop))
            sent = await run_sender(url, payloads, data, RATE / PER_REQUEST, requests)
            inputs = len(pool) + PER_REQUEST * len(sent["accepted_at"])
            deadline = time.monotonic() + 300
            while (rows := client.query("SELECT uniqExact(signal_id) FROM tocsin.signals").result_rows[0][0]) < inputs:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            stop.set()
            await sampler
            published = await lifecycle_topic(settings)
            stored_twice = client.query(
                "SELECT count() - uniqExact(event_id) FROM tocsin.incident_events FINAL"
            ).result_rows[0][0]
    growth = slope(samples)
    stalls = sum(by_label(STALLS).values())
    result = {
        "scenario": "soak",
        "minutes": MINUTES,
        "inputs": inputs,
        "lost": inputs - rows,
        "duplicated": verdict(published, {})["duplicated"] + stored_twice,
        "out_of_order": out_of_order(published),
        "lifecycle_events": len(published),
        "rss_start_mb": round(samples[0][1], 1),
        "rss_end_mb": round(samples[-1][1], 1),
        "rss_growth_mb_per_min": round(growth, 3),
        "stall_rereads": stalls,
        "refetches": by_label(REFETCHES),
        "sent_alerts_per_s": round(PER_REQUEST * len(sent["accepted_at"]) / sent["seconds"]),
        "late_starts": sent["late_starts"],
    }
    print(json.dumps(result), flush=True)
    clean = not (result["lost"] or result["duplicated"] or result["out_of_order"])
    return 0 if growth < 1 and not stalls and clean else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
