"""The walking skeleton end to end, in-process, on the real Tansu broker and real chDB."""

import asyncio
import json
import time

import orjson
import pytest

from streams.settings import Settings
from streams.topics import TopicNames
from tests.conftest import fixture_bytes
from tests.support.stack import get, post, query_rows, read_topic, running_tocsin, wait_for

pytestmark = pytest.mark.integration


def events_sql(settings: Settings) -> str:
    return (
        f"SELECT event_id, incident_id, seq, kind, at, service, title, fingerprint "
        f"FROM {settings.database}.incident_events FINAL ORDER BY incident_id, seq"
    )


def alert(name: str, status: str, starts: str, ends: str = "0001-01-01T00:00:00Z", service: str = "checkout") -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "service": service},
        "annotations": {"summary": f"{name} on {service}"},
        "startsAt": starts,
        "endsAt": ends,
    }


def webhook(*alerts: dict, group_status: str = "firing") -> bytes:
    return json.dumps({"version": "4", "status": group_status, "receiver": "tocsin", "alerts": list(alerts)}).encode()


def test_real_payloads_open_then_resolve(settings: Settings, clickhouse) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/alertmanager"
            started = time.monotonic()
            status, body = await post(url, fixture_bytes("alertmanager-0.25-firing.json"))
            assert (status, body["accepted"]) == (202, 2)
            rows = await wait_for(lambda: query_rows(clickhouse, events_sql(settings)), 30, "opened row")
            print(f"opened row visible {time.monotonic() - started:.3f}s after the POST")
            assert [(r["kind"], r["seq"], r["service"], r["title"]) for r in rows] == [
                ("opened", 1, "apex-api", "API service is down")
            ]
            assert rows[0]["at"].isoformat() == "2025-01-27T14:00:00"

            # The group status stays "firing" while SystemDown resolves: the incident stays open.
            status, _ = await post(url, fixture_bytes("alertmanager-0.25-partially-resolved.json"))
            assert status == 202
            resolve_both = webhook(
                alert("SystemDown", "resolved", "2025-01-27T14:00:00Z", "2025-01-27T14:30:00Z", "apex-api")
                | {
                    "labels": {
                        "alertname": "SystemDown",
                        "job": "apex-api",
                        "service": "apex-api",
                        "severity": "critical",
                    }
                },
                alert("HighErrorRate", "resolved", "2025-01-27T14:01:00Z", "2025-01-27T14:45:00Z", "apex-api")
                | {"labels": {"alertname": "HighErrorRate", "service": "apex-api", "severity": "warning"}},
                group_status="resolved",
            )
            status, _ = await post(url, resolve_both)
            assert status == 202
            rows = await wait_for(
                lambda: (r := query_rows(clickhouse, events_sql(settings))) and len(r) >= 2 and r, 30, "resolved row"
            )
            assert [(r["kind"], r["seq"]) for r in rows] == [("opened", 1), ("resolved", 2)]
            assert rows[1]["at"].isoformat() == "2025-01-27T14:45:00"
            assert rows[0]["incident_id"] == rows[1]["incident_id"]

            status, listed = await get(f"{settings.base_url}/v1/incidents")
            assert status == 200
            assert listed["incidents"] == [
                {
                    "incident_id": rows[0]["incident_id"],
                    "service": "apex-api",
                    "title": "API service is down",
                    "status": "resolved",
                    "seq": 2,
                    "opened_at": "2025-01-27T14:00:00.000Z",
                    "resolved_at": "2025-01-27T14:45:00.000Z",
                }
            ]
            assert (await get(f"{settings.base_url}/v1/incidents?open=1"))[1]["incidents"] == []

            published = await read_topic(settings.bootstrap_servers, TopicNames(settings.topic_prefix).incidents, 2)
            on_kafka = sorted((orjson.loads(r.value) for r in published), key=lambda e: e["seq"])
            assert [e["event_id"] for e in on_kafka] == [r["event_id"] for r in rows]
            assert all(r.key.decode() == rows[0]["incident_id"] for r in published)

    asyncio.run(scenario())


def test_group_resolving_one_by_one_and_redelivery(settings: Settings, clickhouse) -> None:
    a = alert("Latency", "firing", "2025-02-01T10:00:00Z")
    b = alert("Errors", "firing", "2025-02-01T10:02:00Z")
    a_done = alert("Latency", "resolved", "2025-02-01T10:00:00Z", "2025-02-01T10:20:00Z")
    b_done = alert("Errors", "resolved", "2025-02-01T10:02:00Z", "2025-02-01T10:25:00Z")
    sends = [webhook(a), webhook(a, b), webhook(a, b), webhook(a_done, b), webhook(a_done, b_done)]

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/alertmanager"
            for body in sends + sends:  # every notification delivered twice, as Alertmanager HA does
                assert (await post(url, body))[0] == 202
            rows = await wait_for(
                lambda: (r := query_rows(clickhouse, events_sql(settings))) and len(r) >= 2 and r, 30, "both events"
            )
            await asyncio.sleep(1.0)  # give any wrongful extra event time to arrive
            rows = query_rows(clickhouse, events_sql(settings))
            assert [(r["kind"], r["seq"], r["at"].isoformat()) for r in rows] == [
                ("opened", 1, "2025-02-01T10:00:00"),
                ("resolved", 2, "2025-02-01T10:25:00"),
            ]
            raw = query_rows(clickhouse, f"SELECT count() AS n FROM {settings.database}.incident_events")
            assert raw[0]["n"] == 2

    asyncio.run(scenario())


def test_bad_input_answers_clearly_and_bad_alerts_reach_the_dlq(settings: Settings, clickhouse) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/alertmanager"
            status, body = await post(url, b"{nope")
            assert status == 400
            assert body["rejections"][0]["reason"] == "invalid_json"
            status, body = await post(url, b"{" + b" " * (settings.limits.max_payload_bytes + 1) + b"}")
            assert (status, body["error"]) == (413, "payload too large")

            mixed = webhook(alert("Broken", "firing", "not-a-time"), alert("Good", "firing", "2025-03-01T09:00:00Z"))
            status, body = await post(url, mixed)
            assert (status, body["accepted"], body["rejected"]) == (202, 1, 1)

            rows = await wait_for(lambda: query_rows(clickhouse, events_sql(settings)), 30, "good alert's incident")
            assert [(r["kind"], r["title"]) for r in rows] == [("opened", "Good on checkout")]
            dead = await read_topic(settings.bootstrap_servers, TopicNames(settings.topic_prefix).dlq, 1)
            assert len(dead) == 1
            headers = {k: v.decode() for k, v in dead[0].headers}
            assert headers["reason"] == "bad_timestamp"
            assert headers["index"] == "0"
            assert headers["source_topic"] == TopicNames(settings.topic_prefix).alerts
            assert dead[0].value == mixed

    asyncio.run(scenario())
