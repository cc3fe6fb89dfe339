"""``make chaos`` — hostile input: ≥ 10,000 bad inputs over HTTP and straight onto every input
topic, interleaved with valid alerts, against the running app (real broker, real chDB).

Expected: HTTP answers 400/413 with reasons for what can never succeed (202 when part of a
body is usable), no 5xx, the worker never crashes, every bad Kafka record is on the DLQ once
with a reason, every valid alert becomes a signal, and the DLQ holds no more bytes than the
refused input (ratio ≤ 1.1). Prints one JSON line.
"""

import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from streams.topics import TopicNames
from tests.chaos.verdict import out_of_order
from tests.support.stack import embedded_services, read_until, running_tocsin

BAD_INPUTS = 10_000
SEED = 20261130
NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))


def good_alert(i: int) -> dict:
    return {"status": "firing", "labels": {"alertname": f"Good{i}", "service": f"ok-{i % 50}"}, "startsAt": NOW}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def hostile(rnd: random.Random, i: int) -> bytes:
    """One bad body, of one of the kinds a broken or hostile sender produces."""
    kind = i % 12
    alert = good_alert(i)
    if kind == 0:
        return rnd.randbytes(rnd.randrange(1, 512))
    if kind == 1:
        return b'{"version": "4", "alerts": [{"labels": {"a": "\xff\xfe"}}]}'
    if kind == 2:
        return nested(10_000)
    if kind == 3:
        return orjson.dumps({"version": "4", "alerts": "not a list"})
    if kind == 4:
        labels = {f"l{n}": "v" for n in range(10_000)}
        return orjson.dumps({"version": "4", "alerts": [{**alert, "labels": labels}]})
    if kind == 5:
        return b'{"version": "4", "alerts": [{"labels": {"alertname": "x"}, "startsAt": NaN, "x": Infinity}]}'
    if kind == 6:
        return b'{"version": "4", "version": "3", "alerts": []}'
    if kind == 7:
        return orjson.dumps({"version": "4", "alerts": [{**alert, "startsAt": "1970-01-01T00:00:00Z"}]})
    if kind == 8:
        return orjson.dumps({"version": "4", "alerts": [{**alert, "startsAt": "2999-01-01T00:00:00Z"}]})
    if kind == 9:
        return orjson.dumps({"version": "4", "alerts": [{**alert, "labels": [1, 2, 3]}]})
    if kind == 10:
        return orjson.dumps({"service": 42, "check": None, "status": ["fail"]})
    return b""


async def scenario(data: Path) -> dict:
    rnd = random.Random(SEED)
    with embedded_services(data) as (broker, client, settings):
        names = TopicNames(settings.topic_prefix)
        statuses: Counter = Counter()
        sent_good = kafka_bad = kafka_bad_bytes = http_partial_bytes = 0
        async with running_tocsin(settings, client), aiohttp.ClientSession() as session:
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, max_request_size=16 << 20)
            await producer.start()
            endpoints = ["/v1/alertmanager", "/v1/events", "/v1/checks", "/v1/reports"]
            topics = [names.alerts, names.checks, names.reports, names.commands]
            try:
                for i in range(BAD_INPUTS):
                    body = hostile(rnd, i)
                    if i % 2:  # straight onto an input topic
                        await producer.send(topics[i % len(topics)], body)
                        kafka_bad += 1
                        kafka_bad_bytes += len(body)
                    else:
                        async with session.post(settings.base_url + endpoints[i % len(endpoints)], data=body) as r:
                            statuses[r.status] += 1
                            await r.read()
                    if i % 100 == 0:  # interleaved: a valid alert, and one good among bad ones
                        mixed = {"version": "4", "alerts": [good_alert(i), {"labels": "bad"}]}
                        payload = orjson.dumps(mixed)
                        async with session.post(settings.base_url + "/v1/alertmanager", data=payload) as r:
                            statuses[r.status] += 1
                            http_partial_bytes += len(payload)
                        sent_good += 1
                for size in (8 << 20, 17 << 20):  # big, and over the cap
                    async with session.post(
                        settings.base_url + "/v1/alertmanager", data=b"[" + b" " * size + b"]"
                    ) as r:
                        statuses[r.status] += 1
                unknown = f"{settings.base_url}/v1/incidents/000000000000-0000000000/ack"
                async with session.post(unknown, data=b'{"actor": "x"}') as r:
                    statuses[r.status] += 1
                await producer.flush()
            finally:
                await producer.stop()
            expected_dlq = kafka_bad + sent_good + 1  # each bad record, each partial body, the unknown ack

            def enough(records: list) -> bool:
                return len(records) >= expected_dlq

            dead = await read_until(broker.bootstrap_servers, names.dlq, enough, timeout=300)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                good = client.query(
                    "SELECT uniqExact(fingerprint) FROM tocsin.signals WHERE service LIKE 'ok-%' "
                    "AND outcome IN ('accepted', 'duplicate')"
                ).result_rows[0][0]
                if good >= sent_good:
                    break
                await asyncio.sleep(1)
            published = await read_until(broker.bootstrap_servers, names.incidents, lambda r: False, timeout=5)
    reasons = Counter(dict(r.headers)["reason"].decode() for r in dead)
    value_bytes = sum(len(r.value or b"") for r in dead)
    header_bytes = sum(len(k) + len(v) for r in dead for k, v in r.headers)
    refused_bytes = kafka_bad_bytes + http_partial_bytes
    return {
        "scenario": "hostile_input",
        "inputs": BAD_INPUTS + sent_good,
        "bad_inputs": BAD_INPUTS,
        "valid_alerts": sent_good,
        "valid_processed": int(good),
        "lost": sent_good - int(good) + max(0, expected_dlq - len(dead)),
        "duplicated": max(0, len(dead) - expected_dlq),
        "out_of_order": out_of_order([r.value for r in published]),
        "lifecycle_events": len(published),
        "http_statuses": dict(sorted(statuses.items())),
        "http_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "dlq_records": len(dead),
        "dlq_reasons": dict(reasons.most_common()),
        "dlq_bytes_ratio": round(value_bytes / refused_bytes, 3),
        "dlq_bytes_ratio_with_headers": round((value_bytes + header_bytes) / refused_bytes, 3),
        "dlq_header_bytes_per_record": round(header_bytes / max(1, len(dead))),
    }


def main() -> None:
    result = asyncio.run(scenario(Path(tempfile.mkdtemp(prefix="tocsin-chaos-"))))
    print(json.dumps(result))
    ok = result["lost"] == 0 and result["duplicated"] == 0 and result["http_5xx"] == 0
    sys.exit(0 if ok and result["dlq_bytes_ratio"] <= 1.1 else 1)


if __name__ == "__main__":
    main()
