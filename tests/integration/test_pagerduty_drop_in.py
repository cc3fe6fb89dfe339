"""PagerDuty's Events API v2 on its own path, answered as PagerDuty answers (HTTP in → Kafka →
engine → events out): a sender that only lets you change the host works unchanged — Debian's
Alertmanager with its PagerDuty receiver, and PagerDuty's own Python client over HTTPS.

A trigger on ``/v2/enqueue`` gets ``{"status": "success", …, "dedup_key"}``; its resolve,
which names no service, reaches the incident through the policy's routing-key map; a
malformed event gets PagerDuty's 400 shape.
"""

import asyncio
import json
import ssl
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from pagerduty import EventsApiV2Client

from models.policy import load_policy
from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.alertmanager import Alertmanager
from tests.support.stack import post, read_topic, read_until, running_tocsin

pytestmark = pytest.mark.integration
POLICY = "pagerduty:\n  routing_keys:\n    R0123: {service: checkout, team: payments}\n"


def event(action: str, **fields: object) -> bytes:
    return json.dumps({"routing_key": "R0123", "event_action": action, **fields}).encode()


def test_a_pagerduty_client_s_trigger_and_resolve_on_v2_enqueue(settings: Settings, clickhouse) -> None:
    settings = replace(settings, policy=load_policy(POLICY))
    payload = {"summary": "Card payments failing", "source": "pay-7", "severity": "critical"}

    async def scenario() -> tuple[list, list]:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v2/enqueue"
            answers = [await post(url, event("trigger", payload=payload))]
            key = answers[0][1]["dedup_key"]
            answers.append(await post(url, event("resolve", dedup_key=key)))
            answers.append(await post(url, event("trigger", payload={"summary": "no severity"})))
            answers.append(await post(url, json.dumps({"alerts": []}).encode()))
            records = await read_topic(settings.bootstrap_servers, TopicNames(settings.topic_prefix).incidents, 3)
        return answers, [json.loads(r.value) for r in records]

    answers, events = asyncio.run(scenario())
    (status, trigger), (resolve_status, resolve), *invalid = answers
    assert (status, trigger["status"], trigger["message"]) == (202, "success", "Event processed")
    assert trigger["dedup_key"] and resolve == {**trigger} and resolve_status == 202
    for bad_status, bad in invalid:
        assert (bad_status, bad["status"], bad["message"]) == (400, "invalid event", "Event object is invalid")
        assert bad["errors"] and all(isinstance(e, str) for e in bad["errors"])
    assert [e["kind"] for e in events] == ["opened", "signal_resolved", "resolved"]
    assert events[0]["service"] == "checkout" and {e["incident_id"] for e in events} == {events[0]["incident_id"]}


PAGERDUTY_RECEIVER = """\
route:
  receiver: pagerduty
  group_by: [service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: pagerduty
    pagerduty_configs:
      - routing_key: R0123
        url: {url}
        send_resolved: true
"""


def test_alertmanager_s_own_pagerduty_integration_pointed_at_v2_enqueue(
    settings: Settings, clickhouse, tmp_path
) -> None:
    """Debian's Alertmanager, its PagerDuty receiver with only the URL changed."""
    settings = replace(settings, policy=load_policy(POLICY))
    url = f"{settings.base_url}/v2/enqueue"
    labels = {"alertname": "PaymentsDown", "service": "pay"}

    async def scenario() -> list:
        async with running_tocsin(settings, clickhouse):
            with Alertmanager(tmp_path, url, PAGERDUTY_RECEIVER) as am:
                am.post_alerts([{"labels": labels, "annotations": {"summary": "payments down"}}])
                topic = TopicNames(settings.topic_prefix).incidents
                await read_topic(settings.bootstrap_servers, topic, 1, timeout=30)
                ended = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
                am.post_alerts([{"labels": labels, "endsAt": ended}])
                resolved = await read_until(
                    settings.bootstrap_servers, topic, lambda rs: any(b'"resolved"' in r.value for r in rs), 30
                )
        return [json.loads(r.value) for r in resolved]

    events = asyncio.run(scenario())
    assert events[0]["kind"] == "opened" and events[0]["service"] == "checkout"  # the routing key's service
    assert events[-1]["kind"] == "resolved" and events[-1]["incident_id"] == events[0]["incident_id"]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made here, by openssl."""
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_pagerduty_s_python_client_over_https(settings: Settings, clickhouse, tmp_path: Path) -> None:
    """PagerDuty's own client (``pagerduty`` 7, ``EventsApiV2Client``) with only its base URL
    changed: it insists on ``https://`` and reads PagerDuty's answer (the ``dedup_key``)."""
    cert, key = self_signed(tmp_path)
    settings = replace(settings, policy=load_policy(POLICY), tls_cert=str(cert), tls_key=str(key))
    assert settings.base_url.startswith("https://")

    async def scenario() -> tuple[str, list]:
        async with running_tocsin(settings, clickhouse):
            trust = ssl.create_default_context(cafile=str(cert))
            client = EventsApiV2Client("R0123", base_url=settings.base_url, verify=trust)
            dedup_key = await asyncio.to_thread(client.trigger, "Card payments failing", "pay-7", severity="critical")
            await asyncio.to_thread(client.acknowledge, dedup_key)
            await asyncio.to_thread(client.resolve, dedup_key)
            topic = TopicNames(settings.topic_prefix).incidents
            records = await read_until(
                settings.bootstrap_servers, topic, lambda rs: any(b'"resolved"' in r.value for r in rs), 30
            )
        return dedup_key, [json.loads(r.value) for r in records]

    dedup_key, events = asyncio.run(scenario())
    assert dedup_key and [e["kind"] for e in events] == ["opened", "acknowledged", "signal_resolved", "resolved"]
    assert events[0]["service"] == "checkout" and events[1]["actor"].startswith("pagerduty:")
