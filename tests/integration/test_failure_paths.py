"""Failure paths of the correlate agent: state, published events and offsets stay consistent.

Faults are injected by patching one engine function or the producer's ``send`` for one topic inside the
running app (the broker and ClickHouse are real): there is no other way to make a correct
engine raise half-way through an input, or a healthy broker refuse a batch.
"""

import asyncio
import time

import orjson
import pytest
from faust.transport.drivers.aiokafka import Producer

import models.signal_flow
from models.fingerprint import fingerprint
from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.stack import events_of, get, post, read_until, running_tocsin, wait_for

pytestmark = pytest.mark.integration


def webhook(name: str, service: str = "pay") -> bytes:
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 300))
    alert = {"status": "firing", "labels": {"alertname": name, "service": service}, "startsAt": started}
    return orjson.dumps({"version": "4", "status": "firing", "alerts": [alert]})


def test_an_input_the_engine_fails_on_is_dead_lettered_and_leaves_no_trace(
    settings: Settings, clickhouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = models.signal_flow.reclassify

    def failing(ctx, incident, at, fp="", **kwargs):
        if ctx.state.signals.get(fp) and ctx.state.signals[fp].labels.get("alertname") == "Poison":
            raise RuntimeError("injected fault, after the signal was recorded and joined")
        return real(ctx, incident, at, fp, **kwargs)

    monkeypatch.setattr(models.signal_flow, "reclassify", failing)

    async def scenario() -> None:
        names = TopicNames(settings.topic_prefix)
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/alertmanager"
            assert (await post(url, webhook("First")))[0] == 202
            opened = await wait_for(lambda: events_of(clickhouse, settings.database), 30, "opened")
            incident = opened[0]["incident_id"]
            assert (await post(url, webhook("Poison")))[0] == 202
            assert (await post(url, webhook("Third")))[0] == 202
            rows = await wait_for(
                lambda: (r := events_of(clickhouse, settings.database)) and len(r) >= 2 and r, 30, "Third joining"
            )
            dead = await read_until(settings.bootstrap_servers, names.dlq, lambda r: len(r) >= 1, timeout=20)
            status, state = await get(f"{settings.base_url}/v1/incidents/{incident}/state")
        assert [(r["kind"], r["seq"]) for r in rows] == [("opened", 1), ("signal_added", 2)]  # no gap, no Poison
        headers = {k: v.decode() for k, v in dead[0].headers}
        assert (headers["reason"], headers["source"]) == ("internal_error", names.signals)
        assert b"Poison" in dead[0].value and "injected fault" in headers["detail"]
        assert status == 200 and state["seq"] == 2 and state["signal_count"] == 2
        expected = {fingerprint({"alertname": name, "service": "pay"}) for name in ("First", "Third")}
        assert set(state["members"]) == expected

    asyncio.run(scenario())


def test_a_batch_whose_publish_fails_is_retried_not_lost(
    settings: Settings, clickhouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = TopicNames(settings.topic_prefix)
    failures = {"left": 3}
    real_send = Producer.send

    async def flaky_send(self, topic, *args, **kwargs):
        if topic == names.incidents and failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionError("injected: the broker refused the produce")
        return await real_send(self, topic, *args, **kwargs)

    monkeypatch.setattr(Producer, "send", flaky_send)

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            assert (await post(f"{settings.base_url}/v1/alertmanager", webhook("Lonely", "ledger")))[0] == 202
            rows = await wait_for(lambda: events_of(clickhouse, settings.database), 60, "the opened event")
            published = await read_until(settings.bootstrap_servers, names.incidents, lambda r: len(r) >= 1, 20)
        assert failures["left"] == 0
        assert [(r["kind"], r["seq"]) for r in rows] == [("opened", 1)]
        assert len({orjson.loads(r.value)["event_id"] for r in published}) == 1

    asyncio.run(scenario())
