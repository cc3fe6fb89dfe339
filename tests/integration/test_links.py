"""Links travel with the incident, on the running app: HTTP in → Kafka → engine → HTTP out.

A Grafana Alerting webhook (source, silence, runbook), a PagerDuty event (client URL, links,
images) and an Alertmanager alert naming no runbook (the policy's runbook map gives the
procedure's) each open an incident; ``GET /v1/incidents/{id}`` shows the links on the
incident and on its signal, the lifecycle events carry them, and the post-mortem lists them.
"""

import asyncio
import json
import time

import pytest

from models.timestamps import format_ms
from streams.settings import Settings
from tests.conftest import fixture_bytes
from tests.support.stack import get, post, running_tocsin, wait_for

pytestmark = pytest.mark.integration
GRAFANA_CPU = {
    "source": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
    "silence": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
    "runbook": "https://myrunbook.com/runbook/1234",
}


def system_down() -> bytes:
    alert = {
        "labels": {"alertname": "SystemDown", "service": "payments"},
        "annotations": {"summary": "payments down"},
        "startsAt": format_ms(int(time.time() * 1000) - 60_000),
        "generatorURL": "javascript:alert(1)",  # not a link anyone should be sent to
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [{**alert, "status": "firing"}]}).encode()


def test_links_travel_with_the_incident(settings: Settings, clickhouse) -> None:
    async def scenario() -> dict:
        async with running_tocsin(settings, clickhouse):
            base = settings.base_url
            for path, body in (
                ("/v1/alertmanager", fixture_bytes("grafana-webhook.json")),
                ("/v1/events", fixture_bytes("pagerduty-trigger.json")),
                ("/v1/alertmanager", system_down()),
            ):
                assert (await post(base + path, body))[0] == 202

            async def incidents() -> dict | None:
                status, body = await get(f"{base}/v1/incidents")
                return status == 200 and len(body["incidents"]) == 4 and {i["service"]: i for i in body["incidents"]}

            found = await wait_for(incidents, 30, "four incidents")
            details = {}
            for service, row in found.items():
                details[service] = await wait_for(lambda r=row: _detail(base, r["incident_id"]), 30, "its signals")
            status, draft = await get(f"{base}/v1/incidents/{found['High CPU usage']['incident_id']}/postmortem")
            assert status == 200
            details["postmortem"] = draft["markdown"]
            return details

    details = asyncio.run(scenario())
    cpu = details["High CPU usage"]
    assert cpu["links"] == GRAFANA_CPU and cpu["runbook_url"] == GRAFANA_CPU["runbook"]
    assert cpu["signals"][0]["links"] == GRAFANA_CPU
    assert [e["kind"] for e in cpu["timeline"]] == ["opened"]
    pagerduty = details["mysql"]["links"]
    assert pagerduty == {
        "source": "https://monitoring.example.com",
        "Link text": "https://example.com/",
        "Example text": "https://example.com/",
        "runbook": "deploy/runbooks/database-issues.md",  # service mysql: the map's database runbook
    }
    payments = details["payments"]
    assert payments["runbook_url"] == "deploy/runbooks/api-down.md"  # the policy's runbook map
    assert payments["links"] == {"runbook": "deploy/runbooks/api-down.md"}  # the javascript: URL left out
    assert f"[silence]({GRAFANA_CPU['silence']})" in details["postmortem"]


async def _detail(base: str, incident_id: str) -> dict | None:
    status, body = await get(f"{base}/v1/incidents/{incident_id}")
    return status == 200 and body["signals"] and body
