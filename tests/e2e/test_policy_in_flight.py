"""The correlation quiet window, repeat counts and the staleness watchdog on a running worker.

One ``tocsin worker`` (every role, chDB, ``--policy``) on the session's broker; Alertmanager
webhooks over HTTP. Event time decides correlation, so the quiet window needs no waiting:
``A`` started 60 s ago, ``C`` 50 s ago (ten seconds of quiet: it joins ``A``'s incident),
``B`` now (sixty seconds of quiet, over the 30 s window: a new incident). ``A`` is re-sent
unchanged and then no more; the watchdog (``stale_after.alertmanager: 3s``, wall clock)
resolves it, and its ``signal_resolved`` shows it was received twice.
"""

import asyncio
import time
import uuid
from pathlib import Path

import orjson
import pytest

from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames
from tests.support.processes import readyz, spawn_worker
from tests.support.stack import post, read_until

pytestmark = pytest.mark.integration
# repeat_after 0: the re-send, a moment after the first copy, counts
POLICY = "correlation:\n  quiet: 30s\ndedup:\n  repeat_after: 0s\nresolution:\n  stale_after:\n    alertmanager: 3s\n"


def webhook(name: str, started_s_ago: int) -> bytes:
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - started_s_ago))
    alert = {
        "status": "firing",
        "labels": {"alertname": name, "service": "checkout"},
        "annotations": {"summary": f"{name} on checkout"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
    }
    return orjson.dumps({"version": "4", "status": "firing", "groupKey": name, "alerts": [alert]})


def test_quiet_window_repeats_and_watchdog_in_flight(broker: EmbeddedBroker, tmp_path: Path) -> None:
    prefix, port = f"pol{uuid.uuid4().hex[:8]}", free_port()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    options = ("--app-id", f"pol-{prefix}", "--topic-prefix", prefix, "--policy", str(policy))
    worker = spawn_worker(broker.url, tmp_path, port, "memory://", *options)
    names, url = TopicNames(prefix), f"http://127.0.0.1:{port}/v1/alertmanager"
    try:
        deadline = time.monotonic() + 90
        while not readyz(port).get("ready"):
            assert time.monotonic() < deadline, "worker never became ready"
            time.sleep(0.2)
        a = webhook("A", 60)
        for body in (a, webhook("C", 50), webhook("B", 0), a):  # A again: a re-send, same content
            status, _ = asyncio.run(post(url, body))
            assert status == 202

        def settled(records: list) -> bool:  # both incidents resolved by the watchdog
            return sum(e["kind"] == "resolved" for e in map(_event, records)) == 2

        events = [_event(r) for r in asyncio.run(read_until(broker.bootstrap_servers, names.incidents, settled, 30))]
    finally:
        worker.terminate()
        worker.wait(60)

    opened = sorted((e for e in events if e["kind"] == "opened"), key=lambda e: e["at"])  # A's opens first
    assert len(opened) == 2, [(e["kind"], e["title"]) for e in events]
    first, second = (e["incident_id"] for e in opened)
    by_incident = {i: {e["fingerprint"] for e in events if e["incident_id"] == i} - {""} for i in (first, second)}
    assert len(by_incident[first]) == 2 and len(by_incident[second]) == 1  # A and C; B alone after the quiet
    stale = [e for e in events if e["kind"] == "signal_resolved" and e["details"].get("stale") == "true"]
    resent = [e for e in stale if e["incident_id"] == first and e["details"]["received"] == "2"]
    assert resent, stale  # A: received twice, resolved by the watchdog once it stopped arriving


def _event(record: object) -> dict:
    return orjson.loads(record.value)
