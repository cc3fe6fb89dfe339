"""Grafana dashboards: every ClickHouse panel query runs on chDB against tocsin's real schema
and returns the columns its panel expects; every Prometheus expression parses (promtool) and
names metrics tocsin exports. Grafana itself does not run here; its plugin's macros are
expanded as documented (tests/support/grafana.py)."""

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from models.engine import step
from models.policy import load_policy
from models.state import KeyState
from sinks.clickhouse.writer import EventWriter, JSONWriter
from streams import signal_log
from streams.row_records import row_records
from tests.integration.test_clickhouse_metrics import lifecycle
from tests.support.engine import MIN, alert
from tests.support.grafana import expand

GRAFANA = Path(__file__).parents[2] / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DAY = 86_400_000

# What each ClickHouse panel must return, by title.
EXPECTED_COLUMNS = {
    "Open incidents by severity": ["severity", "open"],
    "SLA compliance by severity": [
        "severity",
        "incidents",
        "response_sla_pct",
        "resolution_sla_pct",
        "sla_breaches",
    ],
    "MTTA per severity against the response target (minutes)": ["time", "severity", "mtta_minutes", "target_minutes"],
    "MTTR per severity against the resolution target (minutes)": ["time", "severity", "mttr_minutes", "target_minutes"],
    "Incidents per day by severity": ["time", "severity", "incidents"],
    "Top noisy services": [
        "service",
        "signals",
        "duplicates",
        "suppressed",
        "rejected",
        "distinct_alerts",
        "incidents",
    ],
    "Recent incidents": [
        "incident_id",
        "severity",
        "status",
        "service",
        "title",
        "detected_at",
        "acknowledged_at",
        "resolved_at",
        "signal_count",
        "root_cause",
    ],
}


def panels(datasource_type: str) -> list[dict]:
    return [
        panel
        for path in DASHBOARDS
        for panel in json.loads(path.read_text())["panels"]
        if panel["datasource"]["type"] == datasource_type
    ]


def seed(clickhouse, database: str, now: int) -> None:
    """Three finished incidents two days ago, one open P2, and a noisy signal stream."""
    EventWriter(clickhouse, database).write_events_sync(lifecycle(now))
    policy, state, records, events = load_policy(), KeyState(), [], []
    noisy = alert("DiskSpaceLow", service="reports-batch", starts=now - 60 * MIN, severity="warning")
    for repeat in range(5):  # the first opens the incident, the repeats are duplicates
        state, emitted, decision = step(state, noisy, now - (60 - repeat) * MIN, policy)
        events += emitted
        records.append(signal_log.record(noisy, decision, now - (60 - repeat) * MIN))
    EventWriter(clickhouse, database).write_events_sync([e.to_dict() for e in events])
    JSONWriter(clickhouse, f"{database}.signals", "signal_id").write_sync(list(row_records(records)))


@pytest.fixture
def seeded(clickhouse, database: str):
    now = int(time.time() * 1000)
    seed(clickhouse, database, now)
    clickhouse.command(f"USE {database}")  # dashboards name tables unqualified (the data source's default database)
    yield clickhouse, now
    clickhouse.command("USE default")


def run(client, sql: str, now: int) -> tuple[list[str], list[tuple]]:
    expanded = expand(sql, now - 30 * DAY, now)
    assert "$" not in expanded, expanded
    result = client.query(expanded)
    return list(result.column_names), [tuple(row) for row in result.result_rows]


def test_every_clickhouse_panel_runs_and_returns_its_columns(seeded) -> None:
    client, now = seeded
    found = panels("grafana-clickhouse-datasource")
    assert sorted(p["title"] for p in found) == sorted(EXPECTED_COLUMNS)
    for panel in found:
        for target in panel["targets"]:
            columns, rows = run(client, target["rawSql"], now)
            assert columns == EXPECTED_COLUMNS[panel["title"]], panel["title"]
            assert rows, f"{panel['title']}: no rows from the seeded data"


def test_panel_values_match_the_seeded_incidents(seeded) -> None:
    client, now = seeded
    sql = {p["title"]: p["targets"][0]["rawSql"] for p in panels("grafana-clickhouse-datasource")}
    assert run(client, sql["Open incidents by severity"], now)[1] == [("P2", 1)]
    sla = {row[0]: row[1:4] for row in run(client, sql["SLA compliance by severity"], now)[1]}
    assert sla["P0"] == (1, 100.0, 100.0)
    mtta = {
        row[1]: row[2:] for row in run(client, sql["MTTA per severity against the response target (minutes)"], now)[1]
    }
    assert mtta == {"P0": (5.0, 15.0), "P1": (30.0, 60.0)}  # against the procedure's 15 min / 1 h targets
    mttr = {
        row[1]: row[2:] for row in run(client, sql["MTTR per severity against the resolution target (minutes)"], now)[1]
    }
    assert mttr["P0"] == (45.0, 240.0) and mttr["P1"] == (120.0, 1440.0)
    noisy = run(client, sql["Top noisy services"], now)[1]
    assert noisy[0][:3] == ("reports-batch", 5, 4) and noisy[0][-2:] == (1, 1)


def test_panels_use_the_provisioned_data_sources() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/datasources.yml").read_text())
    uids = {(d["type"], d["uid"]) for d in provisioned["datasources"]}
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in board["panels"]:
            for target in panel["targets"]:
                assert (target["datasource"]["type"], target["datasource"]["uid"]) in uids, panel["title"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/dashboards.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"  # where compose mounts them


def test_every_prometheus_expression_parses_and_names_exported_metrics(tmp_path: Path) -> None:
    exprs = [t["expr"] for p in panels("prometheus") for t in p["targets"]]
    assert exprs
    rules = {
        "groups": [{"name": "dashboards", "rules": [{"record": f"panel:{i}", "expr": e} for i, e in enumerate(exprs)]}]
    }
    (tmp_path / "panels.yml").write_text(yaml.safe_dump(rules))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "panels.yml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    known = exported_metric_names() | recorded_names() | {"up"}
    for expr in exprs:
        for name in re.findall(r"\b((?:tocsin_|severity:)[\w:]+|up)\b", expr):
            assert name in known, f"{name} (in {expr}) is neither exported by tocsin nor recorded"


def exported_metric_names() -> set[str]:
    import prometheus_client

    import streams.metrics
    import streams.stall_guard
    import streams.transport  # noqa: F401 - these register their counters

    names = set()
    for family in prometheus_client.REGISTRY.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        names |= {family.name + suffix for suffix in suffixes}
    return names


def recorded_names() -> set[str]:
    rules = yaml.safe_load((GRAFANA.parent / "prometheus/rules/tocsin.yml").read_text())
    return {r["record"] for group in rules["groups"] for r in group["rules"] if "record" in r}
