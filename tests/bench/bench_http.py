"""``make bench``: tocsin's HTTP path side by side with Prometheus Alertmanager, same run.

The same alerts (200k by default: 10k fingerprints over 200 services, mostly re-sends, some
resolves and flapping) go as groups of 10, 100 and 1,000 alerts from a sender process to
tocsin's ``/v1/alertmanager`` and to the Debian Alertmanager's ``/api/v2/alerts``.

- tocsin: from the first request until every alert was applied by the engine
  (``tocsin_engine_inputs_total``) and has its row in ClickHouse ``signals``
  (``tocsin_clickhouse_rows_total``); lifecycle events are on Kafka and in ClickHouse by then.
- Alertmanager: the time its API takes to accept every request (it stores the alerts
  before answering).

The same run measures tocsin split over two processes on the same machine
(``tocsin worker --roles api,sink`` and ``--roles ingest,engine``), progress read from
their ``/metrics``: what a second core buys.

Prints one JSON line with the rates and the ratios tocsin ÷ Alertmanager.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

from sinks.clickhouse.metrics import CLICKHOUSE_ROWS
from streams.local.broker import EmbeddedBroker, free_port
from streams.metrics import ENGINE_INPUTS, by_label
from tests.bench.workload import as_api_v2, as_webhook, webhook_batches
from tests.support.alertmanager import Alertmanager
from tests.support.processes import readyz, spawn_worker
from tests.support.stack import embedded_services, running_tocsin

INPUTS = int(os.environ.get("TOCSIN_BENCH_INPUTS", "200000"))
CONCURRENCY = 8
# Alertmanager stores and groups the alerts but notifies nobody: the peer's cost is its ingest.
QUIET_ALERTMANAGER = "route:\n  receiver: quiet\n  group_by: [service]\nreceivers:\n  - name: quiet\n"


def applied() -> int:
    """Inputs the engine applied (any outcome): read from the one counter, not the registry."""
    return sum(by_label(ENGINE_INPUTS).values())


def rows_written() -> int:
    return by_label(CLICKHOUSE_ROWS).get("signals", 0)


def stored_rows(client) -> int:
    """Distinct ``signals`` rows in ClickHouse: one per alert, however often a batch was retried."""
    return int(client.query("SELECT uniqExact(signal_id) FROM tocsin.signals").result_rows[0][0])


async def run_sender(url: str, bodies: list[str], workdir: Path) -> dict:
    path = workdir / f"bodies-{time.monotonic_ns()}.json"
    path.write_bytes(orjson.dumps(bodies))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.sender", url, str(path), str(CONCURRENCY), stdout=subprocess.PIPE
    )
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"sender failed for {url}")
    return orjson.loads(out.splitlines()[-1])


async def tocsin_rate(batches: list[list[dict]], data: Path) -> dict:
    alerts = sum(len(b) for b in batches)
    data.mkdir(parents=True, exist_ok=True)
    with embedded_services(data) as (_, client, settings):
        async with running_tocsin(settings, client):
            applied0, rows0 = applied(), rows_written()
            started = time.perf_counter()
            sent = await asyncio.create_task(
                run_sender(f"{settings.base_url}/v1/alertmanager", [as_webhook(b) for b in batches], data)
            )
            # Polled a few times a second: the bench shares tocsin's process and must not tax it.
            while applied() - applied0 < alerts:
                await asyncio.sleep(0.2)
            applied_s = time.perf_counter() - started
            while rows_written() - rows0 < alerts:
                await asyncio.sleep(0.2)
            while stored_rows(client) < alerts:  # the counter also counts a batch written twice
                await asyncio.sleep(0.2)
            stored = time.perf_counter() - started
    return {
        "alerts_per_s": round(alerts / stored),
        "accepted_s": round(sent["seconds"], 2),
        "applied_s": round(applied_s, 2),
        "stored_s": round(stored, 2),
        "retries_429_503": sent["retries"],
    }


def metric_total(port: int, name: str, labels: str = "") -> float:
    """Sum of a counter's samples in a worker's ``/metrics`` (optionally one label set)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name) and labels in line)


async def split_rate(batches: list[list[dict]], data: Path) -> dict:
    """Two processes: the HTTP edge with the sinks (chDB), and the engine with ingest."""
    alerts = sum(len(b) for b in batches)
    edge_port, engine_port = free_port(), free_port()
    data.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_file=data / "broker.log") as broker:

        def start(name: str, port: int, roles: str) -> subprocess.Popen:
            return spawn_worker(broker.url, data / name, port, "memory://", "--roles", roles, "--partitions", "4")

        edge, engine = start("edge", edge_port, "api,sink"), start("engine", engine_port, "ingest,engine")
        try:
            while not (readyz(edge_port).get("ready") and readyz(engine_port).get("ready")):
                await asyncio.sleep(0.2)
            started = time.perf_counter()
            url = f"http://127.0.0.1:{edge_port}/v1/alertmanager"
            sent = await run_sender(url, [as_webhook(b) for b in batches], data)
            while metric_total(engine_port, "tocsin_engine_inputs_total") < alerts:
                await asyncio.sleep(0.2)
            applied_s = time.perf_counter() - started
            while metric_total(edge_port, "tocsin_clickhouse_rows_total", 'table="signals"') < alerts:
                await asyncio.sleep(0.2)
            stored = time.perf_counter() - started
        finally:
            for process in (edge, engine):
                process.terminate()
                process.wait(60)
    return {
        "alerts_per_s": round(alerts / stored),
        "accepted_s": round(sent["seconds"], 2),
        "applied_s": round(applied_s, 2),
        "stored_s": round(stored, 2),
    }


async def alertmanager_rate(batches: list[list[dict]], workdir: Path) -> dict:
    alerts = sum(len(b) for b in batches)
    workdir.mkdir(parents=True, exist_ok=True)
    with Alertmanager(workdir, "", config=QUIET_ALERTMANAGER) as am:
        sent = await run_sender(f"{am.api}/alerts", [as_api_v2(b) for b in batches], workdir)
    return {"alerts_per_s": round(alerts / sent["seconds"]), "accepted_s": round(sent["seconds"], 2)}


async def main() -> None:
    if shutil.which("prometheus-alertmanager") is None:
        raise SystemExit("prometheus-alertmanager is not installed (make bench installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="tocsin-bench-http-"))
    batches = webhook_batches(INPUTS, int(time.time() * 1000) - 60_000)
    peer = await alertmanager_rate(batches, workdir / "am")
    ours = await tocsin_rate(batches, workdir / "tocsin")
    split = await split_rate(batches, workdir / "split")
    print(
        orjson.dumps(
            {
                "bench": "http_vs_alertmanager",
                "alerts": sum(len(b) for b in batches),
                "requests": len(batches),
                "group_sizes": [10, 100, 1000],
                "tocsin": ours,
                "alertmanager": peer,
                "ratio_tocsin_to_alertmanager": round(ours["alerts_per_s"] / peer["alerts_per_s"], 3),
                "tocsin_two_processes": split,
                "ratio_two_processes_to_alertmanager": round(split["alerts_per_s"] / peer["alerts_per_s"], 3),
            }
        ).decode()
    )


if __name__ == "__main__":
    asyncio.run(main())
