"""The bad day: big Alertmanager groups and a 100,000-alert incident, end to end.

Real Alertmanager (Debian's), real Tansu broker, real chDB. Every Kafka record tocsin writes
is checked against Apache Kafka's default limits (the embedded broker enforces none).
"""

import asyncio
import json
import resource
import time
import urllib.request
from pathlib import Path

import aiohttp
import orjson
import pytest

from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.alertmanager import Alertmanager
from tests.support.stack import query_rows, read_until, running_tocsin, wait_for

pytestmark = pytest.mark.integration

KAFKA_MESSAGE_MAX_BYTES = 1_048_588  # Apache Kafka's default message.max.bytes
PRODUCER_MAX_REQUEST_SIZE = 1_048_576  # and the producer's default max.request.size


def am_alert(service: str, i: int) -> dict:
    labels = {"alertname": "HighErrorRate", "service": service, "pod": f"{service}-{i:06d}", "severity": "warning"}
    return {"labels": labels, "annotations": {"summary": f"5xx above 5% on pod {i}"}}


def webhook(service: str, first: int, count: int, starts: str) -> bytes:
    alerts = [{**am_alert(service, i), "status": "firing", "startsAt": starts} for i in range(first, first + count)]
    return orjson.dumps(
        {"version": "4", "status": "firing", "groupKey": f"{{}}:{{service={service!r}}}", "alerts": alerts}
    )


def incident_rows(clickhouse, database: str, service: str) -> list[dict]:
    return query_rows(
        clickhouse,
        f"SELECT incident_id, signal_count, status FROM {database}.incidents WHERE service = '{service}'",
    )


def distinct_signals(clickhouse, database: str, service: str) -> int:
    sql = (
        f"SELECT uniqExact(fingerprint) AS n, uniqExact(incident_id) AS incidents FROM {database}.signals "
        f"WHERE service = '{service}' AND outcome = 'accepted'"
    )
    row = query_rows(clickhouse, sql)[0]
    return row["n"] if row["incidents"] == 1 else -1


async def assert_records_fit_kafka(settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    changelog = f"{settings.app_id}-incidents-by-key-changelog"
    for topic in (names.signals, names.incidents, names.signal_log, names.dlq, changelog):
        records = await read_until(settings.bootstrap_servers, topic, lambda r: False, timeout=3)
        largest = max((len(r.value or b"") + len(r.key or b"") for r in records), default=0)
        assert largest < min(KAFKA_MESSAGE_MAX_BYTES, PRODUCER_MAX_REQUEST_SIZE) - 4096, (topic, largest)


def test_real_alertmanager_groups_of_1000_and_5000(settings: Settings, clickhouse, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            with Alertmanager(tmp_path, f"{settings.base_url}/v1/alertmanager") as am:
                for service, count in (("fleet-a", 1000), ("fleet-b", 5000)):
                    alerts = [am_alert(service, i) for i in range(count)]
                    for chunk in range(0, count, 1000):
                        await asyncio.to_thread(am.post_alerts, alerts[chunk : chunk + 1000])
                for service, count in (("fleet-a", 1000), ("fleet-b", 5000)):
                    await wait_for(
                        lambda s=service, c=count: distinct_signals(clickhouse, settings.database, s) == c,
                        120,
                        f"{count} signals of one {service} incident",
                    )
                    rows = await wait_for(
                        lambda s=service, c=count: (
                            (r := incident_rows(clickhouse, settings.database, s)) and r[0]["signal_count"] == c and r
                        ),
                        30,
                        f"{service} incident counting {count} signals",
                    )
                    assert len(rows) == 1
                with urllib.request.urlopen(f"{am.api}/status", timeout=5) as response:
                    assert json.load(response)["cluster"]["status"] in ("disabled", "ready")
            log = (tmp_path / "alertmanager.log").read_text()
            assert "Notify for alerts failed" not in log and "level=error" not in log, log[-2000:]
            await assert_records_fit_kafka(settings)

    asyncio.run(scenario())


BIG = 100_000
GROUP = 1000


def test_a_100k_alert_incident_while_other_services_keep_flowing(settings: Settings, clickhouse) -> None:
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    latencies: list[float] = []

    async def bystanders(session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
        """Other services' first alerts, one every 0.25 s: each must open its incident promptly."""
        i = 0
        while not stop.is_set():
            service = f"bystander-{i}"
            sent = time.monotonic()
            async with session.post(url, data=webhook(service, 0, 1, starts)) as response:
                assert response.status == 202
            await wait_for(
                lambda s=service: incident_rows(clickhouse, settings.database, s), 60, f"{service} opened", interval=0.2
            )
            latencies.append(time.monotonic() - sent)
            i += 1
            await asyncio.sleep(0.25)

    async def scenario() -> None:
        url = f"{settings.base_url}/v1/alertmanager"
        async with running_tocsin(settings, clickhouse), aiohttp.ClientSession() as session:
            stop = asyncio.Event()
            others = asyncio.create_task(bystanders(session, url, stop))
            started = time.monotonic()
            for first in range(0, BIG, GROUP):
                async with session.post(url, data=webhook("storm", first, GROUP, starts)) as response:
                    assert response.status == 202, await response.text()
            posted = time.monotonic() - started
            await wait_for(
                lambda: distinct_signals(clickhouse, settings.database, "storm") == BIG, 300, "100k signals", interval=1
            )
            done = time.monotonic() - started
            stop.set()
            await others
            rows = await wait_for(
                lambda: (
                    (r := incident_rows(clickhouse, settings.database, "storm")) and r[0]["signal_count"] == BIG and r
                ),
                60,
                "the storm incident counting every signal",
            )
            assert len(rows) == 1
            events = query_rows(
                clickhouse,
                f"SELECT count() AS n FROM {settings.database}.incident_events FINAL "
                f"WHERE incident_id = '{rows[0]['incident_id']}'",
            )[0]["n"]
            await assert_records_fit_kafka(settings)
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                json.dumps(
                    {
                        "alerts": BIG,
                        "posted_s": round(posted, 1),
                        "applied_and_stored_s": round(done, 1),
                        "incident_events": events,
                        "bystanders": len(latencies),
                        "bystander_open_max_s": round(max(latencies), 2),
                        "max_rss_mb": round(rss_mb),
                    }
                )
            )
            assert events < 400  # a readable timeline: the first 100 signals, then every 1000th
            assert latencies and max(latencies) < 20

    asyncio.run(scenario())
