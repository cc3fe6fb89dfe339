"""Kubernetes manifests against the Kubernetes API schemas (kubernetes-validate, strict)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from models.policy import load_policy

MANIFESTS = Path(__file__).parents[2] / "deploy" / "kubernetes"
BIN = Path(sys.executable).parent
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")  # oldest and newest supported minor versions


def validate(*paths: Path, version: str) -> subprocess.CompletedProcess:
    args = [str(BIN / "kubernetes-validate"), "--strict", "-k", version, *map(str, paths)]
    return subprocess.run(args, capture_output=True, text=True)


def manifests() -> list[Path]:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    return [MANIFESTS / name for name in kustomization["resources"]] + [MANIFESTS / "secret.example.yaml"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_validate_strictly(version: str) -> None:
    result = validate(*manifests(), version=version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(manifests()), result.stdout


def test_the_validator_rejects_an_unknown_field(tmp_path: Path) -> None:
    broken = tmp_path / "deployment.yaml"
    broken.write_text((MANIFESTS / "deployment.yaml").read_text().replace("replicas: 2", "replicaz: 2"))
    assert validate(broken, version=KUBERNETES_VERSIONS[-1]).returncode != 0


def test_the_deployment_probes_tocsin_and_takes_its_policy_and_secrets() -> None:
    (deployment,) = yaml.safe_load_all((MANIFESTS / "deployment.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {e["name"]: e for e in container["env"]}
    assert env["TOCSIN_BROKER"]["valueFrom"]["secretKeyRef"]["name"] == "tocsin"
    assert env["TOCSIN_CLICKHOUSE"]["valueFrom"]["secretKeyRef"]["key"] == "clickhouse-dsn"
    assert env["TOCSIN_POLICY"]["value"] == "/etc/tocsin/policy.yml"
    replicas, partitions = deployment["spec"]["replicas"], int(env["TOCSIN_PARTITIONS"]["value"])
    assert replicas <= partitions  # workers beyond the partition count would idle


def test_the_policy_in_the_configmap_is_a_valid_tocsin_policy() -> None:
    configmap = yaml.safe_load((MANIFESTS / "configmap.yaml").read_text())
    policy = load_policy(configmap["data"]["policy.yml"])
    assert policy.sla["P0"].response_ms == 15 * 60_000


def test_the_disruption_budget_selects_the_workers() -> None:
    budget = yaml.safe_load((MANIFESTS / "poddisruptionbudget.yaml").read_text())
    (deployment,) = yaml.safe_load_all((MANIFESTS / "deployment.yaml").read_text())
    assert budget["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
