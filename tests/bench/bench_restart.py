"""``make bench``: how long ``tocsin up`` takes to come back with its incidents.

Opens OPEN_INCIDENTS incidents (one per service) and sends REPEATS re-deliveries of their
alerts, stops ``tocsin up`` (SIGTERM), starts it again on the same ``--data-dir`` and
measures the time until it is ready and until the engine answers for an incident from its
kept state. Prints one JSON line.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from models.correlation import incident_id_for
from models.fingerprint import fingerprint
from models.timestamps import parse_ms
from streams.client import get_json, post_json
from streams.local.broker import free_port

OPEN_INCIDENTS = int(os.environ.get("TOCSIN_BENCH_OPEN_INCIDENTS", "10000"))
REPEATS = int(os.environ.get("TOCSIN_BENCH_REPEATS", "100000"))
GROUP = 1000
TOCSIN = str(Path(sys.executable).parent / "tocsin")


def alerts(first: int, count: int, started: str) -> dict:
    group = [
        {"status": "firing", "labels": {"alertname": "Down", "service": f"svc-{i:05d}"}, "startsAt": started}
        for i in range(first, first + count)
    ]
    return {"version": "4", "status": "firing", "alerts": group}


def applied(url: str) -> float:
    """Inputs the engine applied so far (``tocsin_engine_inputs_total``)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        lines = response.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("tocsin_engine_inputs_total{"))


def start(data: Path, port: int) -> tuple[subprocess.Popen, float]:
    began = time.perf_counter()
    up = subprocess.Popen(
        [TOCSIN, "up", "--data-dir", str(data), "--http-port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if get_json(f"{url}/readyz", timeout=1)[0] == 200:
                return up, time.perf_counter() - began
        except OSError:
            pass
        time.sleep(0.1)


def main() -> None:
    data, port = Path(tempfile.mkdtemp(prefix="tocsin-bench-restart-")), free_port()
    url = f"http://127.0.0.1:{port}"
    started = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    up, _ = start(data, port)
    try:
        sent = 0
        while sent < OPEN_INCIDENTS + REPEATS:
            first = sent % OPEN_INCIDENTS
            count = min(GROUP, OPEN_INCIDENTS - first)
            assert post_json(f"{url}/v1/alertmanager", alerts(first, count, started), timeout=60)[0] == 202
            sent += count
        labels = alerts(OPEN_INCIDENTS - 1, 1, started)["alerts"][0]["labels"]
        incident = incident_id_for(labels["service"], fingerprint(labels), parse_ms(started))
        deadline = time.monotonic() + 3600
        while applied(url) < sent:  # every input applied: the state holds all of them
            assert time.monotonic() < deadline, "the engine did not catch up within an hour"
            time.sleep(1)
        assert get_json(f"{url}/v1/incidents/{incident}/state", timeout=30)[0] == 200
    finally:
        os.killpg(up.pid, signal.SIGTERM)
        up.wait(120)
    up, ready_s = start(data, port)
    try:
        began = time.perf_counter()
        status, state = get_json(f"{url}/v1/incidents/{incident}/state", timeout=60)
        answered_s = time.perf_counter() - began
        assert status == 200 and state["status"] == "detected", state
    finally:
        os.killpg(up.pid, signal.SIGTERM)
        up.wait(120)
    size = sum(f.stat().st_size for f in (data / "faust").rglob("*") if f.is_file())
    print(
        json.dumps(
            {
                "bench": "restart",
                "open_incidents": OPEN_INCIDENTS,
                "inputs_sent": OPEN_INCIDENTS + REPEATS,
                "restart_ready_s": round(ready_s, 2),
                "state_answer_s": round(answered_s, 3),
                "state_store_mb": round(size / 1e6, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
