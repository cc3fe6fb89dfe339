"""Every topic and endpoint of the topology, in-process, on the real Tansu broker and chDB."""

import asyncio
import json
import time

import orjson
import pytest
from aiokafka import TopicPartition

from models.timestamps import format_ms
from streams.end_offsets import EndOffsets
from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.stack import events_of, get, post, produce, read_topic, running_tocsin, settled, wait_for

pytestmark = pytest.mark.integration
MIN = 60_000


def now_ms() -> int:
    return int(time.time() * 1000) // 1000 * 1000


def am_alert(name: str, service: str, starts: int, ends: int = 0, status: str = "firing", **labels: str) -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "service": service, **labels},
        "annotations": {"summary": f"{name} on {service}"},
        "startsAt": format_ms(starts),
        "endsAt": format_ms(ends) if ends else "0001-01-01T00:00:00Z",
    }


def webhook(*alerts: dict) -> bytes:
    return json.dumps({"version": "4", "status": "firing", "alerts": list(alerts)}).encode()


async def kinds_for(clickhouse, settings: Settings, service: str, until: str, timeout: float = 30) -> list[dict]:
    """Events of ``service``'s incidents, once one of kind ``until`` arrived."""

    def check() -> list[dict] | None:
        rows = [r for r in events_of(clickhouse, settings.database) if r["service"] == service]
        return rows if any(r["kind"] == until for r in rows) else None

    return await wait_for(check, timeout, f"{until} for {service}")


async def signals_ends(settings: Settings) -> dict:
    """End offsets of the signals topic: ticks are records there."""
    names = TopicNames(settings.topic_prefix)
    async with EndOffsets(settings.bootstrap_servers) as ends:
        return await ends.of(TopicPartition(names.signals, p) for p in range(settings.partitions))


async def ticked(settings: Settings, before: dict, ticks: int) -> bool:
    return all(end - before[tp] >= ticks for tp, end in (await signals_ends(settings)).items())


def test_health_check_outage_upgrades_p2_to_p0_and_drives_service_status(settings: Settings, clickhouse) -> None:
    t = now_ms() - 5 * MIN

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            base = settings.base_url
            status, _ = await post(
                f"{base}/v1/alertmanager", webhook(am_alert("HighErrorRate", "search", t, severity="warning"))
            )
            assert status == 202
            rows = await kinds_for(clickhouse, settings, "search", "opened")
            assert rows[0]["severity"] == "P2"
            results = [
                {
                    "check": "http",
                    "service": "search",
                    "status": "fail",
                    "observed_at": format_ms(t + i * MIN),
                    "probe": "blackbox",
                    "region": region,
                }
                for region in ("eu-west", "us-east")
                for i in range(1, 4)
            ]
            assert (await post(f"{base}/v1/checks", json.dumps({"results": results}).encode()))[0] == 202
            rows = await kinds_for(clickhouse, settings, "search", "severity_changed")
            changed = [r for r in rows if r["kind"] == "severity_changed"][-1]
            assert (changed["severity"], changed["details"]) == ("P0", {"from": "P2", "to": "P0"})
            assert json.loads(changed["reasons"]) == [{"rule": "p0-critical", "facts": {"impact": "outage"}}]
            statuses = await read_topic(settings.bootstrap_servers, TopicNames(settings.topic_prefix).service_status, 2)
            assert [(r.key.decode(), orjson.loads(r.value)["status"]) for r in statuses] == [
                ("search", "degraded"),
                ("search", "major_outage"),
            ]

    asyncio.run(scenario())


def test_flapping_reopen_and_sla_breach(settings: Settings, clickhouse) -> None:
    t = now_ms() - 20 * MIN

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse) as app:
            url = f"{settings.base_url}/v1/alertmanager"
            # flapping: firing/resolved every 30 s, nine changes
            start = t
            for i in range(10):
                if i % 2 == 0:
                    start = t + i * 30_000
                    body = webhook(am_alert("Flappy", "cart", start))
                else:
                    body = webhook(am_alert("Flappy", "cart", start, start + 30_000, status="resolved"))
                assert (await post(url, body))[0] == 202
            rows = await kinds_for(clickhouse, settings, "cart", "flapping_started")
            after = [r["kind"] for r in rows][[r["kind"] for r in rows].index("flapping_started") + 2 :]
            assert not {"resolved", "reopened"} & set(after)

            # reopen inside the 30-min window
            assert (await post(url, webhook(am_alert("Disk", "db", t, status="firing"))))[0] == 202
            resolved = webhook(am_alert("Disk", "db", t, t + MIN, status="resolved"))
            assert (await post(url, resolved))[0] == 202
            assert (await post(url, webhook(am_alert("Disk", "db", t + 5 * MIN))))[0] == 202
            rows = await kinds_for(clickhouse, settings, "db", "reopened")
            assert [r["kind"] for r in rows] == ["opened", "signal_resolved", "resolved", "reopened"]

            # P0 detected 20 min ago: its 15-min response deadline passed; the breach carries it
            critical = webhook(am_alert("SystemDown", "api", t, severity="critical"))
            assert (await post(url, critical))[0] == 202
            rows = await kinds_for(clickhouse, settings, "api", "sla_breached", timeout=30)
            breach = next(r for r in rows if r["kind"] == "sla_breached")
            assert breach["at"].isoformat(timespec="milliseconds") + "Z" == format_ms(t + 15 * MIN)
            assert breach["details"] == {"sla": "response", "deadline": format_ms(t + 15 * MIN)}
            ticks = await signals_ends(settings)  # two more ticks pass: the breach is not emitted again
            await wait_for(lambda: ticked(settings, ticks, 2), 10, "two more ticks on every partition")
            await settled(app, settings)
            rows = [r for r in events_of(clickhouse, settings.database) if r["service"] == "api"]
            assert [r["kind"] for r in rows].count("sla_breached") == 1

    asyncio.run(scenario())


def test_commands_via_http_and_topic_and_bad_input_to_dlq(settings: Settings, clickhouse) -> None:
    t = now_ms() - MIN
    names = TopicNames(settings.topic_prefix)

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            base = settings.base_url
            await produce(settings.bootstrap_servers, names.alerts, b"\x00 not json")
            generic = {"service": "billing", "title": "invoices stuck", "starts_at": format_ms(t)}
            await produce(settings.bootstrap_servers, names.alerts, orjson.dumps(generic))
            rows = await kinds_for(clickhouse, settings, "billing", "opened")
            incident = rows[0]["incident_id"]

            status, body = await post(f"{base}/v1/incidents/{incident}/ack", b'{"actor": "ann"}')
            assert status == 200, body
            assign = {
                "action": "assign",
                "incident_id": incident,
                "actor": "bot",
                "role": "incident_commander",
                "assignee": "carol",
            }
            await produce(settings.bootstrap_servers, names.commands, orjson.dumps(assign), key=incident.encode())
            rows = await kinds_for(clickhouse, settings, "billing", "role_assigned")
            assert [(r["kind"], r["actor"], r["status"]) for r in rows] == [
                ("opened", "", "detected"),
                ("acknowledged", "ann", "acknowledged"),
                ("role_assigned", "bot", "investigating"),
            ]
            assert rows[-1]["details"] == {"role": "incident_commander", "assignee": "carol"}
            roles = clickhouse.query(
                f"SELECT roles FROM {settings.database}.incidents WHERE incident_id = '{incident}'"
            ).result_rows[0][0]
            assert [tuple(r) for r in roles] == [("incident_commander", "carol")]

            # and the other way round on a second incident: ack on the topic, assign over HTTP
            other = {"service": "ledger", "title": "drift", "starts_at": format_ms(t)}
            await produce(settings.bootstrap_servers, names.alerts, orjson.dumps(other))
            second = (await kinds_for(clickhouse, settings, "ledger", "opened"))[0]["incident_id"]
            ack = {"action": "ack", "incident_id": second, "actor": "chatops"}
            await produce(settings.bootstrap_servers, names.commands, orjson.dumps(ack), key=second.encode())
            # Two senders on two paths are not ordered against each other (HTTP writes engine
            # inputs directly; the topic's record goes through its ingest agent): wait for the ack.
            await kinds_for(clickhouse, settings, "ledger", "acknowledged")
            body = orjson.dumps({"actor": "dan", "role": "technical_lead", "assignee": "erin"})
            assert (await post(f"{base}/v1/incidents/{second}/assign", body))[0] == 200
            rows = await kinds_for(clickhouse, settings, "ledger", "role_assigned")
            assert [(r["kind"], r["actor"]) for r in rows] == [
                ("opened", ""),
                ("acknowledged", "chatops"),
                ("role_assigned", "dan"),
            ]

            unknown = {"action": "ack", "incident_id": "000000000000-0000000000", "actor": "x"}
            await produce(settings.bootstrap_servers, names.commands, orjson.dumps(unknown))
            status, _ = await post(f"{base}/v1/incidents/{incident}/assign", b'{"actor": "a", "role": "mascot"}')
            assert status == 400
            dead = await read_topic(settings.bootstrap_servers, names.dlq, 2)
            reasons = sorted({k: v.decode() for k, v in r.headers}["reason"] for r in dead)
            assert reasons == ["invalid_json", "unknown_incident"]
            garbage = next(r for r in dead if dict(r.headers)["reason"] == b"invalid_json")
            assert garbage.value == b"\x00 not json"
            assert dict(garbage.headers)["source_topic"].decode() == names.alerts

    asyncio.run(scenario())


def test_every_ingest_endpoint_and_metrics(settings: Settings, clickhouse) -> None:
    t = now_ms() - MIN
    settings = settings.with_(api_token="s3cret")
    auth = {"Authorization": "Bearer s3cret"}

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            base = settings.base_url
            before = await get_text(f"{base}/metrics")
            assert (await post(f"{base}/v1/events", b"{}"))[0] == 401
            pagerduty = {
                "routing_key": "k",
                "event_action": "trigger",
                "dedup_key": "pg-1",
                "payload": {
                    "summary": "replica lag",
                    "source": "pg-2",
                    "severity": "error",
                    "timestamp": format_ms(t),
                    "custom_details": {"service": "postgres"},
                },
            }
            cloudevent = {
                "specversion": "1.0",
                "id": "e1",
                "source": "cron",
                "type": "com.example.tocsin.signal",
                "time": format_ms(t),
                "data": {"service": "search", "title": "index stale"},
            }
            report = {
                "service": "checkout",
                "reporter": "support:1",
                "summary": "card declined",
                "reported_at": format_ms(t),
                "channel": "complaint",
            }
            for path, body in (("/v1/events", pagerduty), ("/v1/events", cloudevent), ("/v1/reports", report)):
                status, answer = await post(f"{base}{path}", orjson.dumps(body), headers=auth)
                assert status == 202, answer
            for service, severity in (("postgres", "P1"), ("search", "P3"), ("checkout", "P2")):
                rows = await kinds_for(clickhouse, settings, service, "opened")
                assert rows[0]["severity"] == severity
            after = await get_text(f"{base}/metrics")
            assert (
                metric(after, 'tocsin_lifecycle_events_total{kind="opened",severity="P1"}')
                >= metric(before, 'tocsin_lifecycle_events_total{kind="opened",severity="P1"}') + 1
            )
            assert metric(after, 'tocsin_open_incidents{severity="P2"}') >= 1
            assert metric(after, "tocsin_sink_batch_rows_count") > metric(before, "tocsin_sink_batch_rows_count")
            names = TopicNames(settings.topic_prefix)
            accepted = 'tocsin_engine_inputs_total{outcome="accepted"}'
            assert metric(after, accepted) >= metric(before, accepted) + 3
            parsed = 'tocsin_ingested_total{source="http:/v1/events"}'
            assert metric(after, parsed) >= metric(before, parsed) + 2
            assert metric(after, "tocsin_processing_seconds_count") > metric(before, "tocsin_processing_seconds_count")
            signals_lag = f'tocsin_consumer_lag_messages{{topic="{names.signals}"}}'
            assert any(line.startswith(signals_lag + " ") for line in after.splitlines())  # every owned topic

    asyncio.run(scenario())


async def get_text(url: str) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.text()


async def status_of(url: str) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status


def metric(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_readiness_and_health(settings: Settings, clickhouse) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            assert await get(f"{settings.base_url}/healthz") == (200, {"status": "ok"})
            status, body = await get(f"{settings.base_url}/readyz")
            names = TopicNames(settings.topic_prefix)
            assert (status, body["ready"]) == (200, True)
            assert body["partitions"][names.signals] == list(range(settings.partitions)), "one worker owns all"
            for page in ("/table", "/router"):  # Faust's own pages are off
                assert await status_of(f"{settings.base_url}{page}") == 404

    asyncio.run(scenario())


def test_every_input_is_logged_with_its_outcome(settings: Settings, clickhouse) -> None:
    from sinks.clickhouse.migrate import migrate

    t = now_ms() - MIN
    body = webhook(am_alert("Latency", "maps", t))

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/alertmanager"
            assert (await post(url, body))[0] == 202
            assert (await post(url, body))[0] == 202  # re-delivered
            unknown = {"action": "ack", "incident_id": "000000000000-0000000000", "actor": "x"}
            await produce(settings.bootstrap_servers, TopicNames(settings.topic_prefix).commands, orjson.dumps(unknown))

            def logged() -> list:
                rows = clickhouse.query(
                    f"SELECT input, service, outcome, reason FROM {settings.database}.signals FINAL "
                    f"ORDER BY received_at, outcome"
                ).result_rows
                return rows if len(rows) >= 3 else []

            rows = await wait_for(logged, 30, "three signal-log rows")
            assert sorted(rows) == [
                ("command", "", "rejected", "unknown_incident"),
                ("signal", "maps", "accepted", ""),
                ("signal", "maps", "duplicate", ""),
            ]

    asyncio.run(scenario())
    migrate(clickhouse, settings.database, signals_ttl_days=7)
    ddl = clickhouse.query(f"SHOW CREATE TABLE {settings.database}.signals").result_rows[0][0]
    assert "toIntervalDay(7)" in ddl or "INTERVAL 7 DAY" in ddl
