"""Prometheus alerts tocsin directly: its ``alerting.alertmanagers`` target is tocsin, which
takes Alertmanager's ``POST /api/v2/alerts`` (HTTP in → Kafka → engine → events out).

Debian's Prometheus evaluates a rule that always fires (``vector(1)``) every second and
sends the alert as it would to an Alertmanager.
"""

import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from streams.local.broker import free_port
from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.stack import read_until, running_tocsin

pytestmark = pytest.mark.integration
CONFIG = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{rules}]
alerting:
  alertmanagers:
    - api_version: v2
      static_configs: [{{targets: ["{target}"]}}]
"""
RULES = """\
groups:
  - name: payments
    rules:
      - alert: PaymentsDown
        expr: vector(1)
        labels: {service: pay, severity: critical}
        annotations: {summary: "Card payments failing"}
"""


def prometheus(workdir: Path, target: str) -> subprocess.Popen:
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is not installed; `make test` installs it with apt-get")
    (workdir / "rules.yml").write_text(RULES)
    config = workdir / "prometheus.yml"
    config.write_text(CONFIG.format(rules=workdir / "rules.yml", target=target))
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{free_port()}",
        "--rules.alert.resend-delay=1s",
    ]
    return subprocess.Popen(command, stdout=(workdir / "prometheus.log").open("wb"), stderr=subprocess.STDOUT)


def test_prometheus_pointed_at_tocsin_opens_an_incident(settings: Settings, clickhouse, tmp_path: Path) -> None:
    async def scenario() -> list:
        async with running_tocsin(settings, clickhouse):
            process = prometheus(tmp_path, f"{settings.http_host}:{settings.http_port}")
            try:
                topic = TopicNames(settings.topic_prefix).incidents
                records = await read_until(settings.bootstrap_servers, topic, lambda r: bool(r), 45)
            finally:
                process.terminate()
                process.wait(timeout=20)
        return [json.loads(r.value) for r in records]

    started = time.time()
    events = asyncio.run(scenario())
    assert events, f"no incident {time.time() - started:.0f}s after Prometheus started (see prometheus.log)"
    opened = events[0]
    assert (opened["kind"], opened["service"], opened["title"]) == ("opened", "pay", "Card payments failing")
    assert opened["severity"] == "P0"
