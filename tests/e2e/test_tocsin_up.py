"""``tocsin up`` as a user runs it: its own embedded broker and chDB, a real Alertmanager
posting to it, and a clean stop on Ctrl-C that leaves no process behind."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from streams.local.broker import free_port
from tests.support.alertmanager import Alertmanager
from tests.support.processes import alive, children
from tests.support.stack import read_topic, read_until

pytestmark = pytest.mark.integration

VENV_BIN = Path(sys.executable).parent


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not seen; output:\n{''.join(lines[-40:])}")


def ready(url: str) -> bool:
    import urllib.request

    try:
        return urllib.request.urlopen(f"{url}/readyz", timeout=1).status == 200
    except OSError:
        return False


def dump(data_dir: Path, sql: str) -> list[dict]:
    output = subprocess.run(
        [sys.executable, "-m", "tests.support.chdb_dump", str(data_dir), sql],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    return [json.loads(line) for line in output.splitlines()]


def rfc3339(moment: datetime, ms: bool = False) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if ms else "Z")


def start_up(data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    """Start ``tocsin up`` in its own session, as a terminal would; return it, its URL and broker."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    up = subprocess.Popen(
        [str(VENV_BIN / "tocsin"), "up", "--data-dir", str(data_dir), "--http-port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    banner = wait_for_line(up, "broker:", timeout=60)
    broker = banner[-1].split("kafka://")[1].strip()
    deadline = time.monotonic() + 60
    while not ready(url):
        assert time.monotonic() < deadline, "tocsin up never became ready"
        time.sleep(0.2)
    return up, url, broker


def test_up_with_real_alertmanager(tmp_path: Path) -> None:
    up, url, broker = start_up(tmp_path / "data")
    try:
        with Alertmanager(tmp_path, f"{url}/v1/alertmanager") as am:
            labels = {"alertname": "SystemDown", "service": "apex-api", "job": "apex-api", "severity": "critical"}
            started_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
            alert = {
                "labels": labels,
                "annotations": {"summary": "API service is down"},
                "startsAt": rfc3339(started_at),
            }
            am.post_alerts([alert])
            records = asyncio.run(read_topic(broker, "tocsin.incidents", 1, timeout=30))
            opened = orjson.loads(records[0].value)
            assert (opened["kind"], opened["service"], opened["title"]) == ("opened", "apex-api", "API service is down")
            assert opened["fingerprint"] == am.fingerprints()["SystemDown"]
            assert (opened["at"], opened["severity"]) == (rfc3339(started_at, ms=True), "P0")

            ended_at = started_at + timedelta(seconds=30)
            am.post_alerts([{**alert, "endsAt": rfc3339(ended_at)}])
            records = asyncio.run(read_topic(broker, "tocsin.incidents", 3, timeout=30))
            events = sorted((orjson.loads(r.value) for r in records), key=lambda e: e["seq"])
            assert [e["kind"] for e in events] == ["opened", "signal_resolved", "resolved"]
            assert events[-1]["at"] == rfc3339(ended_at, ms=True)

        # the CLI reads through the running instance (chDB is locked by it)
        cli = [str(VENV_BIN / "tocsin")]
        deadline = time.monotonic() + 20
        while True:  # the sink writes ClickHouse a moment after the events reach Kafka
            listed = subprocess.run([*cli, "incidents", "--url", url, "--json"], capture_output=True, check=True)
            statuses = [i["status"] for i in json.loads(listed.stdout)]
            if statuses == ["resolved"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert statuses == ["resolved"]
        measured = subprocess.run([*cli, "metrics", "--url", url, "--json"], capture_output=True, check=True)
        p0 = next(m for m in json.loads(measured.stdout) if m["severity"] == "P0")
        assert (p0["incidents"], p0["mttr_minutes"]["avg"]) == (1, 0.5)
        draft = subprocess.run(
            [*cli, "postmortem", opened["incident_id"], "--url", url], capture_output=True, text=True, check=True
        ).stdout
        assert draft.startswith("# Post-mortem: API service is down") and "## 2. Timeline" in draft
        table = subprocess.run([*cli, "metrics", "--url", url], capture_output=True, text=True, check=True).stdout
        assert table.splitlines()[0].split()[:3] == ["severity", "incidents", "MTTA"]

        # tocsin send: a JSONL file of mixed inputs, each to the right endpoint
        lines = [
            {"service": "search", "title": "index stale", "starts_at": rfc3339(started_at)},
            {"check": "http", "service": "search", "status": "fail", "observed_at": rfc3339(started_at)},
            {"service": "search", "reporter": "support:7", "summary": "results empty", "channel": "ticket"},
        ]
        feed = tmp_path / "inputs.jsonl"
        feed.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
        sent = subprocess.run([*cli, "send", str(feed), "--url", url], capture_output=True, text=True, check=True)
        assert sent.stdout.strip() == "1 alerts, 1 checks, 1 reports"

        def search_done(records: list) -> bool:
            search = [e for r in records if (e := orjson.loads(r.value))["service"] == "search"]
            return len(search) >= 2 and any(e["severity"] == "P2" for e in search)

        records = asyncio.run(read_until(broker, "tocsin.incidents", search_done, timeout=30))
        search = sorted(
            (e for r in records if (e := orjson.loads(r.value))["service"] == "search"), key=lambda e: e["seq"]
        )
        # alert and report (sent to different topics, so in either order) share the search incident,
        # and the user report makes it P2
        assert [e["kind"] for e in search][:2] == ["opened", "signal_added"]
        assert search[-1]["severity"] == "P2"

        started = children(up.pid)
        assert started, "tocsin up should run the embedded broker as a child"
        os.killpg(up.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole foreground group
        assert up.wait(30) == 0
        assert not [pid for pid in started if alive(pid)], "a process started by tocsin up outlived it"
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()

    rows = dump(
        tmp_path / "data",
        f"SELECT kind, seq, incident_id FROM tocsin.incident_events FINAL "
        f"WHERE incident_id = '{opened['incident_id']}' ORDER BY seq",
    )
    assert [(r["kind"], r["seq"]) for r in rows] == [("opened", 1), ("signal_resolved", 2), ("resolved", 3)]
    assert rows[0]["incident_id"] == opened["incident_id"]


def test_broker_does_not_outlive_a_killed_up(tmp_path: Path) -> None:
    up, _, _ = start_up(tmp_path / "data")
    started = children(up.pid)
    assert started
    up.kill()
    up.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started):
        assert time.monotonic() < deadline, "the embedded broker outlived a SIGKILLed tocsin up"
        time.sleep(0.1)
