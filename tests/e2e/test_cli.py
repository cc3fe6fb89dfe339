"""Every ``tocsin`` command an operator types, against a running instance.

One ``tocsin worker`` (every role, chDB) on the session's broker. An alert goes in with
``tocsin send``; the incident is then driven through its whole life with ``ack``,
``assign``, ``note``, ``severity``, ``resolve``, ``reopen`` and ``close``, each checked by
what the command printed and by the lifecycle events on Kafka; ``incidents``, ``show``,
``metrics`` and ``postmortem`` read it back; ``policy --check`` refuses a file. The alert states an
impact no criterion knows, which must show in the severity reasons, the signal log and
``/metrics``.
"""

import asyncio
import getpass
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames
from tests.e2e.test_tocsin_up import dump
from tests.support.processes import readyz, spawn_worker
from tests.support.stack import read_until

pytestmark = pytest.mark.integration
TOCSIN = str(Path(sys.executable).parent / "tocsin")


def tocsin(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([TOCSIN, *args], capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, f"tocsin {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def alert_line(now_ms: int) -> bytes:
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms / 1000 - 60))
    alert = {
        "status": "firing",
        "labels": {"alertname": "CheckoutErrors", "service": "checkout", "impact": "catastrophic", "scope": "some"},
        "annotations": {"summary": "checkout errors"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
    }
    return orjson.dumps({"version": "4", "status": "firing", "groupKey": "g", "alerts": [alert]})


def test_every_command_drives_a_running_instance(broker: EmbeddedBroker, tmp_path: Path) -> None:
    prefix, port = f"cli{uuid.uuid4().hex[:8]}", free_port()
    url = f"http://127.0.0.1:{port}"
    names = TopicNames(prefix)
    worker = spawn_worker(
        broker.url, tmp_path, port, "memory://", "--app-id", f"cli-{prefix}", "--topic-prefix", prefix
    )
    try:
        wait(lambda: readyz(port).get("ready"), 90, "the worker to be ready")
        inputs = tmp_path / "inputs.jsonl"
        inputs.write_bytes(alert_line(int(time.time() * 1000)) + b"\n")
        assert "1 alerts" in tocsin("send", str(inputs), "--url", url).stdout

        listed = wait(lambda: orjson.loads(tocsin("incidents", "--url", url, "--json").stdout), 60, "the incident")
        incident = listed[0]
        incident_id = incident["incident_id"]
        assert incident["severity"] == "P2"  # scope: some; the unknown impact counts for nothing …

        steps = [
            (["ack", incident_id, "--actor", "alice"], "acknowledged"),
            (["assign", incident_id, "--role", "incident_commander", "--assignee", "bob"], "role_assigned"),
            (["note", incident_id, "rolled back the deploy", "--actor", "alice"], "note_added"),
            (["severity", incident_id, "P1", "--actor", "alice"], "severity_changed"),
            (["resolve", incident_id, "--actor", "alice"], "resolved"),
            (["reopen", incident_id, "--actor", "alice"], "reopened"),
            # closing a reopened incident resolves it first
            (["close", incident_id, "--actor", "alice", "--postmortem-url", "https://wiki/pm/1"], "resolved, closed"),
        ]
        for args, kind in steps:
            printed = tocsin(*args, "--url", url).stdout
            assert printed == f"{args[0]} {incident_id}: accepted ({kind})\n", printed

        published = asyncio.run(
            read_until(
                broker.bootstrap_servers, names.incidents, lambda records: _kinds(records)[-1:] == ["closed"], 30
            )
        )
        kinds = _kinds(published)
        assert kinds == [
            "opened",
            "acknowledged",
            "role_assigned",
            "note_added",
            "severity_changed",
            "resolved",
            "reopened",
            "resolved",
            "closed",
        ], kinds
        events = [orjson.loads(r.value) for r in published]
        actors = {e["kind"]: e["actor"] for e in events}
        assert actors["role_assigned"] == getpass.getuser()  # --actor defaults to the user's name
        assert {actor for kind, actor in actors.items() if kind not in ("opened", "role_assigned")} == {"alice"}
        assert events[0]["reasons"][0]["unrecognised"] == ["impact=catastrophic"]  # … and is named
        assert events[-1]["details"]["postmortem_url"] == "https://wiki/pm/1"

        closed = wait(
            lambda: [
                i for i in orjson.loads(tocsin("incidents", "--url", url, "--json").stdout) if i["status"] == "closed"
            ],
            60,
            "ClickHouse to show the incident closed",
        )
        assert closed[0]["severity"] == "P1"
        shown = orjson.loads(tocsin("show", incident_id, "--url", url, "--json").stdout)
        assert (shown["severity"], shown["status"], shown["roles"]) == ("P1", "closed", {"incident_commander": "bob"})
        assert [e["kind"] for e in shown["timeline"]] == kinds and shown["signals"][0]["received"] == 1
        text = tocsin("show", incident_id, "--url", url).stdout
        assert "rule manual" in text and "note_added" in text and "rolled back the deploy" in text
        unknown = tocsin("show", "no-such-incident", "--url", url, check=False)
        assert unknown.returncode == 1 and "no incident no-such-incident" in unknown.stderr
        draft = tocsin("postmortem", incident_id, "--url", url).stdout
        assert "rolled back the deploy" in draft and incident_id in draft
        assert "P1" in tocsin("metrics", "--url", url, "--since", "1d").stdout

        scraped = wait(lambda: _metric(port, 'tocsin_unrecognised_facts_total{fact="impact"}'), 30, "the metric")
        assert scraped == 1.0
        worker.terminate()
        assert worker.wait(60) == 0
        logged = dump(tmp_path, "SELECT reason FROM tocsin.signals")
        assert any("impact=catastrophic" in row["reason"] for row in logged), logged
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_policy_check_refuses_a_setting_without_effect(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("correlation:\n  quiet: 30m\ndedup:\n  fields:\n    alertmanager: [service]\n")
    refused = tocsin("policy", "--check", str(bad), check=False)
    assert refused.returncode == 1
    assert "line 5: dedup.fields.alertmanager: has no effect" in refused.stderr
    good = tmp_path / "good.yaml"
    good.write_text("correlation:\n  quiet: 30m\n")
    assert tocsin("policy", "--check", str(good)).stdout.strip().endswith("valid")


def _kinds(records: list) -> list[str]:
    return [orjson.loads(r.value)["kind"] for r in records]


def _metric(port: int, name: str) -> float | None:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None
