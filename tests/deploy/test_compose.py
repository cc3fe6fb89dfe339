"""docker-compose.yml against the Compose specification schema, and wired to the deploy files.

No Docker engine runs here, so the stack is not started: the schema check is the Compose
specification's own JSON schema (vendored by check-jsonschema), and the wiring checks make
sure every mount, target and variable points at something that exists.
"""

import subprocess
import sys
from pathlib import Path

import yaml

from streams.settings import _ENV

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n  kafka:\n    image: apache/kafka\n    depends_on: {clickhouse: {condition: sometime}}\n"
    )
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)], capture_output=True
    )
    assert result.returncode != 0


def test_the_stack_has_every_component_with_health_checks() -> None:
    stack = services()
    assert stack["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in stack["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    assert stack["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    assert {"CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD"} <= set(stack["clickhouse"]["environment"])
    workers = [name for name, s in stack.items() if s.get("command") == ["worker"]]
    assert workers == ["tocsin-worker-1", "tocsin-worker-2"]
    for name in ("kafka", "clickhouse", *workers, "prometheus", "alertmanager", "grafana"):
        assert "test" in stack[name]["healthcheck"], f"{name} has no health check"
    assert "grafana-clickhouse-datasource" in stack["grafana"]["environment"]["GF_INSTALL_PLUGINS"]
    assert stack["tocsin-worker-1"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_mounts_and_build_context_exist() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
        if "build" in service:
            assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()


def test_workers_are_configured_with_real_settings_and_reachable_by_their_peers() -> None:
    stack = services()
    worker = stack["tocsin-worker-1"]
    assert set(worker["environment"]) <= set(_ENV.values()), "unknown TOCSIN_* variable"
    assert worker["environment"]["TOCSIN_BROKER"] == "kafka://kafka:9092"
    assert "@clickhouse:8123" in worker["environment"]["TOCSIN_CLICKHOUSE"]
    assert "tocsin" in worker["networks"]["default"]["aliases"]  # Alertmanager posts to http://tocsin:6066
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "tocsin")
    assert job["static_configs"][0]["targets"] == ["tocsin-worker-1:6066", "tocsin-worker-2:6066"]
