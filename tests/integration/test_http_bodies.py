"""Request bodies as real senders send them: big, chunked, slow — read whole, never cut short.
And the answers senders act on: 413 only for what can never succeed, 429/503 to retry."""

import asyncio
import time
from dataclasses import replace

import aiohttp
import orjson
import pytest
from faust.transport.drivers.aiokafka import Producer

from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.stack import running_tocsin

pytestmark = pytest.mark.integration


def webhook_of_size(size: int) -> tuple[bytes, int]:
    """An Alertmanager webhook of about ``size`` bytes, and its alert count."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    one = {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "service": "body", "pod": "p-000000"},
        "annotations": {"summary": "5xx above 5%", "description": "x" * 200},
        "startsAt": started,
    }
    count = max(1, size // (len(orjson.dumps(one)) + 1))
    alerts = [{**one, "labels": {**one["labels"], "pod": f"p-{i:06d}"}} for i in range(count)]
    return orjson.dumps({"version": "4", "status": "firing", "alerts": alerts}), count


async def trickle(body: bytes, chunk: int, pause: float):
    """A chunked-transfer body, written in small pieces with pauses (a slow sender)."""
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]
        if pause:
            await asyncio.sleep(pause)


def test_bodies_of_64k_to_16m_in_small_chunks_are_read_whole(settings: Settings, clickhouse) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse), aiohttp.ClientSession() as session:
            url = f"{settings.base_url}/v1/alertmanager"
            for size, chunk, pause in ((64 << 10, 1500, 0.001), (1 << 20, 4096, 0.0), (15 << 20, 65536, 0.0)):
                body, count = webhook_of_size(size)
                async with session.post(url, data=trickle(body, chunk, pause)) as response:  # chunked
                    answer = await response.json()
                    assert (response.status, answer["accepted"]) == (202, count), (size, answer)
            body, _ = webhook_of_size(17 << 20)
            async with session.post(url, data=trickle(body, 1 << 20, 0)) as response:
                assert response.status == 413  # over the cap: can never succeed
                assert (await response.json())["limit"] == settings.limits.max_payload_bytes

    asyncio.run(scenario())


def test_busy_and_broker_down_answer_retry_after(
    settings: Settings, clickhouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker refusing is injected (the producer's ``send`` to the signals topic raises): the shared test
    broker cannot be taken away from one test."""
    small = replace(settings.limits, max_payload_bytes=64 << 10)  # admission: 4 × 64 KB in flight
    settings = replace(settings, limits=small)
    signals = TopicNames(settings.topic_prefix).signals
    refusing = {"on": False}
    real_send = Producer.send

    async def send(self, topic, *args, **kwargs):
        if refusing["on"] and topic == signals:
            raise ConnectionError("injected: the broker does not take the records")
        return await real_send(self, topic, *args, **kwargs)

    monkeypatch.setattr(Producer, "send", send)

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse), aiohttp.ClientSession() as session:
            url = f"{settings.base_url}/v1/alertmanager"
            body, _ = webhook_of_size(60 << 10)

            async def slow_post() -> tuple[int, str]:
                headers = {"Content-Length": str(len(body))}
                async with session.post(url, data=trickle(body, 2048, 0.02), headers=headers) as response:
                    return response.status, response.headers.get("Retry-After", "")

            answers = await asyncio.gather(*(slow_post() for _ in range(8)))
            assert (202, "") in answers and (429, "1") in answers, answers

            refusing["on"] = True
            async with session.post(url, data=body) as response:
                assert (response.status, response.headers.get("Retry-After")) == (503, "1")

    asyncio.run(scenario())
