"""``make bench``: the full topology on the embedded broker and chDB, fed ≥ 200k inputs.

Prints one JSON line: input events/s through the engine (webhooks of 10 alerts per record,
and, in a second run, one alert per record), p50/p99 latency from produce to the ``opened``
lifecycle event on Kafka, and the raw aiokafka consumption rate measured on the same broker
in the same run.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.metrics import ENGINE_INPUTS, by_label
from streams.stall_guard import STALLS
from streams.topics import TopicNames
from streams.transport import REFETCHES
from tests.bench.workload import alert_messages, check_messages
from tests.support.stack import embedded_services, running_tocsin

INPUTS = int(os.environ.get("TOCSIN_BENCH_INPUTS", "200000"))
CHECKS = INPUTS // 20
SINGLE_INPUTS = INPUTS // 4


def processed(signals_topic: str) -> float:
    """Engine inputs handled so far (any outcome), from tocsin's own counter."""
    return sum(by_label(ENGINE_INPUTS).values())


def single_alerts(inputs: int, start_ms: int) -> Iterator[tuple[bytes, bytes, int]]:
    """The same alert stream, one alert per record (as a Prometheus API v2 alert object)."""
    for key, body, _ in alert_messages(inputs, start_ms):
        for alert in orjson.loads(body)["alerts"]:
            yield key, orjson.dumps(alert), 1


async def produce(bootstrap: str, names: TopicNames, start_ms: int) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1 << 20)
    await producer.start()
    count = 0
    try:
        for topic, messages in (
            (names.alerts, alert_messages(INPUTS, start_ms)),
            (names.checks, check_messages(CHECKS, start_ms)),
        ):
            for key, body, n in messages:
                await producer.send(topic, body, key=key)
                count += n
        await producer.flush()
    finally:
        await producer.stop()
    return count


async def raw_rate(bootstrap: str, topic: str) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=8 << 20,
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()) or [])
        while not ends:
            await asyncio.sleep(0.1)
            ends = await consumer.end_offsets(list(consumer.assignment()))
        total, started = sum(ends.values()), time.perf_counter()
        seen = 0
        while seen < total:
            batch = await consumer.getmany(timeout_ms=500, max_records=100_000)
            seen += sum(len(records) for records in batch.values())
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def opened_latencies(bootstrap: str, topic: str) -> list[float]:
    """Seconds from an opening alert's produce time (its startsAt) to its ``opened`` event on Kafka."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    latencies: list[float] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=50_000)
            if not batch:
                return latencies
            for records in batch.values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event["kind"] == "opened":
                        at = int(time.mktime(time.strptime(event["at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)
                        latencies.append(record.timestamp / 1000 - (at + int(event["at"][20:23]) / 1000))
    finally:
        await consumer.stop()


async def single_rate() -> dict:
    """Producers writing one alert per record: every record is a Kafka record to consume and
    parse. They send from a process of their own, so tocsin's thread is not theirs too."""
    data = Path(tempfile.mkdtemp(prefix="tocsin-bench-single-"))
    pairs = [(key.decode(), value.decode()) for key, value, _ in single_alerts(SINGLE_INPUTS, int(time.time() * 1000))]
    (data / "records.json").write_bytes(orjson.dumps(pairs))
    with embedded_services(data) as (broker, client, settings):
        names = TopicNames(settings.topic_prefix)
        async with running_tocsin(settings, client):
            before, started = processed(names.signals), time.perf_counter()
            sender = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.bench.kafka_sender",
                broker.bootstrap_servers,
                names.alerts,
                str(data / "records.json"),
                stdout=subprocess.PIPE,
            )
            out, _ = await sender.communicate()
            if sender.returncode:
                raise RuntimeError("the Kafka sender failed")
            while processed(names.signals) - before < len(pairs):
                await asyncio.sleep(0.2)
            seconds = time.perf_counter() - started
    return {
        "inputs": len(pairs),
        "input_events_per_s": round(len(pairs) / seconds),
        "produce_s": round(orjson.loads(out.splitlines()[-1])["seconds"], 2),
    }


async def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
    with embedded_services(data) as (broker, client, settings):
        names = TopicNames(settings.topic_prefix)
        async with running_tocsin(settings, client):
            start_ms = int(time.time() * 1000)
            started = time.perf_counter()
            produced = await produce(broker.bootstrap_servers, names, start_ms)
            produce_seconds = time.perf_counter() - started
            while processed(names.signals) < produced:
                await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - started
            latencies = await opened_latencies(broker.bootstrap_servers, names.incidents)
        raw = await raw_rate(broker.bootstrap_servers, names.alerts)
        rows = client.query("SELECT count() FROM tocsin.incident_events FINAL").result_rows[0][0]
        quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        result = {
            "inputs": produced,
            "input_events_per_s": round(produced / elapsed),
            "produce_s": round(produce_seconds, 2),
            "total_s": round(elapsed, 2),
            "opened_latency_p50_s": round(quantiles[49], 3),
            "opened_latency_p99_s": round(quantiles[98], 3),
            "lifecycle_events_in_clickhouse": rows,
            "raw_aiokafka_msgs_per_s": round(raw),
        }
    result["one_alert_per_record"] = await single_rate()
    result["refetched_batches"], result["stalled_partition_rereads"] = by_label(REFETCHES), by_label(STALLS)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
