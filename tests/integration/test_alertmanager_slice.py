"""Alertmanager webhooks end to end, in-process, on the real Tansu broker and real chDB."""

import asyncio
import json
import time

import orjson
import pytest

from streams.settings import Settings
from streams.topics import TopicNames
from tests.conftest import fixture_bytes
from tests.support.stack import (
    events_of,
    get,
    post,
    read_topic,
    running_tocsin,
    settled,
    wait_for,
    wait_for_events,
)

pytestmark = pytest.mark.integration


def alert(
    name: str, status: str, starts: str, ends: str = "0001-01-01T00:00:00Z", service: str = "checkout", **labels: str
) -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "service": service, **labels},
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
            rows = await wait_for_events(clickhouse, settings.database, 1)
            print(f"opened row visible {time.monotonic() - started:.3f}s after the POST")
            rows = await wait_for_events(clickhouse, settings.database, 2)
            assert [(r["kind"], r["seq"], r["service"], r["severity"]) for r in rows] == [
                ("opened", 1, "apex-api", "P0"),
                ("signal_added", 2, "apex-api", "P0"),
            ]
            assert rows[0]["at"].isoformat() == "2025-01-27T14:00:00"
            assert json.loads(rows[0]["reasons"])[0]["rule"] == "p0-critical"

            # The group status stays "firing" while SystemDown resolves: the incident stays open.
            assert (await post(url, fixture_bytes("alertmanager-0.25-partially-resolved.json")))[0] == 202
            labels_a = {"job": "apex-api", "severity": "critical"}
            resolve_both = webhook(
                alert("SystemDown", "resolved", "2025-01-27T14:00:00Z", "2025-01-27T14:30:00Z", "apex-api", **labels_a)
                | {
                    "annotations": {
                        "summary": "API service is down",
                        "runbook_url": "https://runbooks.example.com/api-down",
                    }
                },
                alert(
                    "HighErrorRate",
                    "resolved",
                    "2025-01-27T14:01:00Z",
                    "2025-01-27T14:45:00Z",
                    "apex-api",
                    severity="warning",
                )
                | {"annotations": {"summary": "High error rate detected"}},
                group_status="resolved",
            )
            assert (await post(url, resolve_both))[0] == 202
            rows = await wait_for(
                lambda: (r := events_of(clickhouse, settings.database)) and r[-1]["kind"] == "resolved" and r,
                30,
                "resolved event",
            )
            # 2025 is long past: the P0 response (15 min) and resolution (4 h) deadlines were missed,
            # and the breaches are stamped with the deadlines whenever the timer noticed them.
            breaches = {(r["details"]["sla"], r["at"].isoformat()) for r in rows if r["kind"] == "sla_breached"}
            assert breaches <= {("response", "2025-01-27T14:15:00"), ("resolution", "2025-01-27T18:00:00")}
            assert ("response", "2025-01-27T14:15:00") in breaches
            lifecycle = [r["kind"] for r in rows if r["kind"] != "sla_breached"]
            assert lifecycle == ["opened", "signal_added", "signal_resolved", "signal_resolved", "resolved"]
            assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
            assert rows[-1]["at"].isoformat() == "2025-01-27T14:45:00"
            assert len({r["incident_id"] for r in rows}) == 1

            status, listed = await get(f"{settings.base_url}/v1/incidents")
            assert status == 200
            assert [
                (i["incident_id"], i["status"], i["detected_at"], i["resolved_at"]) for i in listed["incidents"]
            ] == [(rows[0]["incident_id"], "resolved", "2025-01-27T14:00:00.000Z", "2025-01-27T14:45:00.000Z")]
            assert (await get(f"{settings.base_url}/v1/incidents?open=1"))[1]["incidents"] == []

            published = await read_topic(
                settings.bootstrap_servers, TopicNames(settings.topic_prefix).incidents, len(rows)
            )
            on_kafka = sorted((orjson.loads(r.value) for r in published), key=lambda e: e["seq"])
            assert [e["event_id"] for e in on_kafka] == [r["event_id"] for r in rows]
            assert all(r.key.decode() == rows[0]["incident_id"] for r in published)

    asyncio.run(scenario())


def test_notifications_delivered_twice_change_nothing(settings: Settings, clickhouse) -> None:
    a = alert("Latency", "firing", "2025-02-01T10:00:00Z")
    b = alert("Errors", "firing", "2025-02-01T10:02:00Z")
    a_done = alert("Latency", "resolved", "2025-02-01T10:00:00Z", "2025-02-01T10:20:00Z")
    b_done = alert("Errors", "resolved", "2025-02-01T10:02:00Z", "2025-02-01T10:25:00Z")
    sends = [webhook(a), webhook(a, b), webhook(a, b), webhook(a_done, b), webhook(a_done, b_done)]

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse) as app:
            url = f"{settings.base_url}/v1/alertmanager"
            for body in sends + sends:  # every notification delivered twice, as Alertmanager HA does
                assert (await post(url, body))[0] == 202
            await wait_for_events(clickhouse, settings.database, 5)
            await settled(app, settings)  # every input applied and stored: no wrongful event still on its way
            rows = [r for r in events_of(clickhouse, settings.database) if r["kind"] != "sla_breached"]
            assert [(r["kind"], r["at"].isoformat()) for r in rows] == [
                ("opened", "2025-02-01T10:00:00"),
                ("signal_added", "2025-02-01T10:02:00"),
                ("signal_resolved", "2025-02-01T10:20:00"),
                ("signal_resolved", "2025-02-01T10:25:00"),
                ("resolved", "2025-02-01T10:25:00"),
            ]

    asyncio.run(scenario())


def test_bad_http_input_answers_clearly(settings: Settings, clickhouse) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/alertmanager"
            status, body = await post(url, b"{nope")
            assert (status, body["rejections"][0]["reason"]) == (400, "invalid_json")
            status, body = await post(url, b"{" + b" " * (settings.limits.max_payload_bytes + 1) + b"}")
            assert (status, body["error"]) == (413, "payload too large")
            mixed = webhook(alert("Broken", "firing", "not-a-time"), alert("Good", "firing", "2025-03-01T09:00:00Z"))
            status, body = await post(url, mixed)
            assert (status, body["accepted"], body["rejected"]) == (202, 1, 1)
            assert body["rejections"][0]["reason"] == "bad_timestamp"
            rows = await wait_for_events(clickhouse, settings.database, 1)
            assert [r["kind"] for r in rows] == ["opened"]
            dead = await read_topic(settings.bootstrap_servers, TopicNames(settings.topic_prefix).dlq, 1)
            headers = {k: v.decode() for k, v in dead[0].headers}
            assert orjson.loads(headers["rejections"])["items"] == {"bad_timestamp": "0"}
            assert (headers["reason"], headers["content"], headers["source"]) == (
                "bad_timestamp",
                "record",
                "http:/v1/alertmanager",
            )
            assert dead[0].value == mixed

    asyncio.run(scenario())


def test_a_grafana_alerting_webhook_opens_incidents(settings: Settings, clickhouse) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            status, body = await post(f"{settings.base_url}/v1/alertmanager", fixture_bytes("grafana-webhook.json"))
            assert (status, body["accepted"]) == (202, 2)
            records = await read_topic(settings.bootstrap_servers, TopicNames(settings.topic_prefix).incidents, 2)
        opened = sorted(
            (e["fingerprint"], e["service"], e["title"])
            for r in records
            if (e := json.loads(r.value))["kind"] == "opened"
        )
        assert opened == [
            ("bc97ff14869b13e3", "High CPU usage", "This alert was triggered for zone eu-1"),
            ("c6eadffa33fcdf37", "High memory usage", "This alert was triggered for zone us-1"),
        ]

    asyncio.run(scenario())
