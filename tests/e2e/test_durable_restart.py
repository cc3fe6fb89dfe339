"""``tocsin up`` keeps its incidents across a restart, and commands answer with their outcome.

The embedded broker keeps its topics in memory, so every restart meets an empty broker;
the engine's state lives on in the RocksDB store under ``--data-dir``.
"""

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.client import get_json, post_json
from tests.e2e.test_tocsin_up import VENV_BIN, rfc3339, start_up
from tests.support.processes import alive, children

pytestmark = pytest.mark.integration


def webhook(started: datetime) -> dict:
    labels = {"alertname": "SystemDown", "service": "orders", "severity": "critical"}
    alert = {"status": "firing", "labels": labels, "annotations": {"summary": "orders down"}}
    return {"version": "4", "status": "firing", "alerts": [{**alert, "startsAt": rfc3339(started)}]}


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def stop(up: subprocess.Popen, how: signal.Signals) -> None:
    started = children(up.pid)
    if how is signal.SIGKILL:
        up.kill()
    else:
        os.killpg(up.pid, how)
    code = up.wait(60)
    assert code == (-9 if how is signal.SIGKILL else 0)
    wait_until(lambda: not any(alive(pid) for pid in started), 15, "the embedded broker to stop")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restart_keeps_every_incident(tmp_path: Path, how: signal.Signals) -> None:
    data = tmp_path / "data"
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    up, url, _ = start_up(data)
    try:
        assert post_json(f"{url}/v1/alertmanager", webhook(started))[0] == 202
        listed = wait_until(lambda: get_json(f"{url}/v1/incidents")[1]["incidents"], 30, "the incident")
        incident = listed[0]["incident_id"]
        status, answer = post_json(f"{url}/v1/incidents/{incident}/ack", {"actor": "ann"})
        assert (status, [e["kind"] for e in answer["events"]]) == (200, ["acknowledged"])
        status, answer = post_json(f"{url}/v1/incidents/{incident}/ack", {"actor": "ann"})
        assert (status, answer["outcome"]) == (409, "ignored")  # already acknowledged
        before = get_json(f"{url}/v1/incidents/{incident}/state")[1]
        assert (before["status"], before["seq"]) == ("acknowledged", 2)
        stop(up, how)

        up, url, _ = start_up(data)
        assert get_json(f"{url}/v1/incidents/{incident}/state") == (200, before)  # field by field
        status, answer = post_json(f"{url}/v1/incidents/{incident}/note", {"actor": "ann", "text": "rolled back"})
        assert status == 200, answer
        assert [(e["kind"], e["seq"]) for e in answer["events"]] == [("note_added", 3)]
        # Alertmanager re-sends the still-firing alert: it joins the incident it belongs to
        assert post_json(f"{url}/v1/alertmanager", webhook(started))[0] == 202
        status, answer = post_json(
            f"{url}/v1/incidents/{incident}/assign", {"actor": "ann", "role": "operations", "assignee": "bo"}
        )
        assert (status, [(e["kind"], e["seq"]) for e in answer["events"]]) == (200, [("role_assigned", 4)])
        after = get_json(f"{url}/v1/incidents/{incident}/state")[1]
        assert (after["status"], after["seq"], after["acknowledged_at"]) == (
            "investigating",
            4,
            before["acknowledged_at"],
        )
        assert after["signal_count"] == 1 and after["breaches"] == []
        incidents = wait_until(
            lambda: (found := get_json(f"{url}/v1/incidents")[1]["incidents"]) and found[0]["seq"] == 4 and found,
            30,
            "ClickHouse to show seq 4",
        )
        assert [i["incident_id"] for i in incidents] == [incident]  # no second incident opened

        unknown = "000000000000-0000000000"
        assert post_json(f"{url}/v1/incidents/{unknown}/ack", {"actor": "ann"})[0] == 404
        cli = subprocess.run(
            [str(VENV_BIN / "tocsin"), "ack", unknown, "--actor", "ann", "--url", url], capture_output=True, text=True
        )
        assert cli.returncode != 0 and "unknown_incident" in cli.stderr
        cli = subprocess.run(
            [str(VENV_BIN / "tocsin"), "resolve", incident, "--actor", "ann", "--url", url],
            capture_output=True,
            text=True,
        )
        assert cli.returncode == 0 and "resolved" in cli.stdout, cli.stderr
        events = json.loads(json.dumps(get_json(f"{url}/v1/incidents/{incident}/state")[1]))
        assert events["status"] == "resolved"
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGTERM)
            up.wait(60)
