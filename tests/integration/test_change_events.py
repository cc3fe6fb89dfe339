"""Change events reach the incidents they may explain (HTTP and Kafka in → engine → Kafka,
ClickHouse and HTTP out): PagerDuty's own client sends a change event over HTTPS to
``/v2/change/enqueue``, a migration tool writes one to ``tocsin.changes``; an incident that
opens a little later on the service (and on a service depending on the migrated database)
shows both on its timeline, in ``GET /v1/incidents/{id}`` and in its post-mortem draft.
"""

import asyncio
import json
import ssl
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from pagerduty import EventsApiV2Client

from models.policy import load_policy
from models.timestamps import format_ms
from streams.settings import Settings
from streams.topics import TopicNames
from tests.integration.test_pagerduty_drop_in import self_signed
from tests.support.stack import produce, read_until, running_tocsin, wait_for_events

pytestmark = pytest.mark.integration
POLICY = """\
pagerduty:
  routing_keys:
    R0123: {service: checkout}
correlation:
  dependencies: {checkout: [postgres]}
"""


def get_json(url: str, trust: ssl.SSLContext) -> dict:
    with urllib.request.urlopen(url, context=trust, timeout=10) as response:
        return orjson.loads(response.read())


def test_changes_before_an_incident_show_on_its_timeline(settings: Settings, clickhouse, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = replace(settings, policy=load_policy(POLICY), tls_cert=str(cert), tls_key=str(key))
    trust = ssl.create_default_context(cafile=str(cert))
    names = TopicNames(settings.topic_prefix)
    migration = {"service": "postgres", "summary": "schema migration 42", "source": "flyway"}

    async def scenario() -> tuple[list, dict, dict]:
        async with running_tocsin(settings, clickhouse):
            client = EventsApiV2Client("R0123", base_url=settings.base_url, verify=trust)
            links = [{"href": "https://ci.example/pipelines/9", "text": "pipeline 9"}]
            # ``submit`` without a timestamp raises in this client (its default calls
            # ``datetime.timezone`` on the class), so the change says when it happened
            stamp = format_ms(int(time.time() * 1000) - 60_000)
            await asyncio.to_thread(client.submit, "Deploy checkout 2.4.1", "ci", links=links, timestamp=stamp)
            await produce(settings.bootstrap_servers, names.changes, orjson.dumps(migration), b"postgres")
            await asyncio.sleep(1)  # the changes come first
            await asyncio.to_thread(client.trigger, "Card payments failing", "pay-7", severity="critical")

            def noted(records: list) -> bool:
                return sum(b'"change_noted"' in r.value for r in records) >= 2

            records = await read_until(settings.bootstrap_servers, names.incidents, noted, 30)
            events = [json.loads(r.value) for r in records]
            await wait_for_events(clickhouse, settings.database, len(events))
            incident_id = events[0]["incident_id"]
            detail = await asyncio.to_thread(get_json, f"{settings.base_url}/v1/incidents/{incident_id}", trust)
            url = f"{settings.base_url}/v1/incidents/{incident_id}/postmortem"
            draft = await asyncio.to_thread(get_json, url, trust)
        return events, detail, draft

    events, detail, draft = asyncio.run(scenario())
    assert [e["kind"] for e in events] == ["opened", "change_noted", "change_noted"]
    assert all(e["at"] < events[0]["at"] or e["kind"] == "opened" for e in events), "stamped when they happened"
    changes = {c["summary"]: c for c in detail["changes"]}
    assert set(changes) == {"Deploy checkout 2.4.1", "schema migration 42"}
    assert changes["Deploy checkout 2.4.1"]["service"] == "checkout", "the routing key's service"
    assert changes["Deploy checkout 2.4.1"]["link"] == "https://ci.example/pipelines/9"
    migrated = changes["schema migration 42"]
    assert (migrated["service"], migrated["source"]) == ("postgres", "flyway"), "a dependency's change"
    assert [e["kind"] for e in detail["timeline"]].count("change_noted") == 2
    assert "**Recent changes** (review first):" in draft["markdown"] and "schema migration 42" in draft["markdown"]
    assert "[" in draft["markdown"] and "](https://ci.example/pipelines/9)" in draft["markdown"]
