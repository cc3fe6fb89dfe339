"""Subprocess helpers: a worker's command line and process, its readiness, a process's children."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import orjson


def worker_command(broker_url: str, data: Path, port: int, store: str, *options: str) -> list[str]:
    """``tocsin worker`` on ``broker_url`` with its chDB and state under ``data``, 2 partitions."""
    return [
        str(Path(sys.executable).parent / "tocsin"),
        "worker",
        "--broker",
        broker_url,
        "--clickhouse",
        f"chdb://{data / 'clickhouse'}",
        "--data-dir",
        str(data),
        "--store",
        store,
        "--partitions",
        "2",
        "--http-port",
        str(port),
        *options,
    ]


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(p) for p in text.split()]
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().split(")")[-1].split()[0] != "Z"


def spawn_worker(broker_url: str, data: Path, port: int, store: str, *options: str) -> subprocess.Popen:
    """Start ``tocsin worker`` (``worker_command`` plus ``options``), logging to ``data/worker.log``.

    Fast group joins, so a killed worker's partitions move within seconds.
    """
    data.mkdir(parents=True, exist_ok=True)
    log = (data / "worker.log").open("ab")
    env = {**os.environ, "TOCSIN_FAST_GROUP_JOIN": "1", "PYTHONUNBUFFERED": "1"}
    command = worker_command(broker_url, data, port, store, *options)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def readyz(port: int) -> dict:
    """A worker's ``/readyz`` answer (``{}`` while it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as refused:
        return orjson.loads(refused.read())
    except OSError:
        return {}


def wait_until(check: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``check`` until it returns something true (returned), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found
