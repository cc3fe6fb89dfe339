"""``tocsin worker`` (RocksDB store) meets a broker that lost its topics: it refuses, loudly,
unless told to adopt its local state — never a silent amnesia."""

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.client import get_json, post_json
from streams.local.broker import EmbeddedBroker, free_port
from tests.e2e.test_durable_restart import wait_until, webhook
from tests.support.processes import worker_command

pytestmark = pytest.mark.integration


def worker(broker: EmbeddedBroker, data: Path, port: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        worker_command(broker.url, data, port, "rocksdb://"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TOCSIN_FAST_GROUP_JOIN": "1", "TOCSIN_LOG_FORMAT": "text", **env},
    )


def ready(url: str) -> bool:
    try:
        return get_json(f"{url}/readyz", timeout=1)[0] == 200
    except OSError:
        return False


def test_a_worker_refuses_a_broker_that_lost_its_state_unless_told_to_adopt(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    with EmbeddedBroker(log_file=tmp_path / "first.log") as first:
        running = worker(first, data, port)
        try:
            wait_until(lambda: ready(url), 90, "the worker")
            assert post_json(f"{url}/v1/alertmanager", webhook(started))[0] == 202
            incident = wait_until(lambda: get_json(f"{url}/v1/incidents")[1]["incidents"], 30, "an incident")
            incident_id = incident[0]["incident_id"]
            assert post_json(f"{url}/v1/incidents/{incident_id}/ack", {"actor": "ann"})[0] == 200
            time.sleep(4)  # past a commit: the store records how far into the changelog it is
        finally:
            running.send_signal(signal.SIGTERM)
            assert running.wait(60) == 0

    with EmbeddedBroker(log_file=tmp_path / "second.log") as second:  # a new, empty cluster
        refused = worker(second, data, port)
        output, _ = refused.communicate(timeout=120)
        assert refused.returncode == 78, output[-3000:]
        assert "refusing to start" in output and "TOCSIN_ADOPT_LOCAL_STATE" in output

        adopted = worker(second, data, port, TOCSIN_ADOPT_LOCAL_STATE="1")
        try:
            wait_until(lambda: ready(url), 90, "the adopting worker")
            status, state = get_json(f"{url}/v1/incidents/{incident_id}/state")
            assert (status, state["status"], state["seq"]) == (200, "acknowledged", 2)
        finally:
            adopted.send_signal(signal.SIGTERM)
            adopted.wait(60)
