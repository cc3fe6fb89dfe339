"""The dead-letter topic holds a refused input once, however many of its items were refused."""

import asyncio
import json

import orjson
import pytest

from streams.dlq import MAX_VALUE, values
from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.stack import post, produce, read_until, running_tocsin, settled, wait_for_events

pytestmark = pytest.mark.integration

HEADER_ALLOWANCE = 8 * 1024  # bounded per record: reasons, ranges of indices, the first details


def hostile_webhook(bad: int = 999) -> bytes:
    """One usable alert and ``bad`` alerts with an unreadable ``startsAt``: ~100 KB."""
    good = {"status": "firing", "labels": {"alertname": "Good", "service": "dlq"}, "startsAt": "2025-03-01T09:00:00Z"}
    broken = [
        {"status": "firing", "labels": {"alertname": f"Bad{i}", "service": "dlq"}, "startsAt": f"yesterday-{i}"}
        for i in range(bad)
    ]
    return json.dumps({"version": "4", "status": "firing", "alerts": [good, *broken]}).encode()


def expand(ranges: str) -> list[int]:
    indices: list[int] = []
    for part in ranges.split(","):
        first, _, last = part.partition("-")
        indices += range(int(first), int(last or first) + 1)
    return indices


def record_bytes(record) -> int:
    return len(record.value or b"") + sum(len(k) + len(v) for k, v in record.headers)


def test_one_request_with_999_bad_alerts_writes_it_once(settings: Settings, clickhouse) -> None:
    body = hostile_webhook()
    assert 70_000 < len(body) < 110_000

    async def scenario() -> None:
        names = TopicNames(settings.topic_prefix)
        async with running_tocsin(settings, clickhouse) as app:
            status, answer = await post(f"{settings.base_url}/v1/alertmanager", body)
            assert (status, answer["accepted"], answer["rejected"]) == (202, 1, 999)
            await produce(settings.bootstrap_servers, names.alerts, body)  # the Kafka-direct twin
            await wait_for_events(clickhouse, settings.database, 1)
            dead = await read_until(settings.bootstrap_servers, names.dlq, lambda r: len(r) >= 2, timeout=30)
            await settled(app, settings)  # everything processed: a late copy would be there now
            dead = await read_until(settings.bootstrap_servers, names.dlq, lambda r: False, timeout=2)
        assert len(dead) == 2
        for record in dead:
            headers = {k: v.decode() for k, v in record.headers}
            assert record.value == body and headers["content"] == "record"
            assert record_bytes(record) <= len(body) + HEADER_ALLOWANCE
            listed = orjson.loads(headers["rejections"])
            assert listed["count"] == 999 and expand(listed["items"]["bad_timestamp"]) == list(range(1, 1000))
        sources = sorted({k: v.decode() for k, v in r.headers}["source"] for r in dead)
        assert sources == sorted(["http:/v1/alertmanager", names.alerts])

    asyncio.run(scenario())


def test_an_input_larger_than_a_record_keeps_only_its_refused_items() -> None:
    """A 16 MiB body does not fit a Kafka record: the DLQ gets the refused items, in pieces."""
    from models.limits import DEFAULT_LIMITS
    from models.parsers import parse_alerts

    body = hostile_webhook(bad=60_000)
    assert len(body) > 2 * MAX_VALUE
    parsed = parse_alerts(body, DEFAULT_LIMITS, 1_740_000_000_000)
    chunks = values(body, parsed.rejections)
    assert all(len(v) <= MAX_VALUE and content == "items" for v, content in chunks)
    assert sum(len(v) for v, _ in chunks) <= len(body)
    refused = [item for v, _ in chunks for item in orjson.loads(v)]
    assert len(refused) == 60_000 and refused[0]["labels"]["alertname"] == "Bad0"
