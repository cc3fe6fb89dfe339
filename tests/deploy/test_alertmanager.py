"""Alertmanager configuration, checked and routed by amtool itself."""

import subprocess
from pathlib import Path

import yaml

CONFIG = Path(__file__).parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["amtool", *args], capture_output=True, text=True)


def receivers_for(*labels: str) -> str:
    routed = amtool("config", "routes", "test", f"--config.file={CONFIG}", *labels)
    assert routed.returncode == 0, routed.stderr
    return routed.stdout.strip()


def test_config_passes_amtool() -> None:
    checked = amtool("check-config", str(CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_alerts_go_to_tocsin_and_tocsins_own_also_past_it() -> None:
    assert receivers_for("alertname=SystemDown", "service=apex-api", "severity=critical") == "tocsin"
    assert receivers_for("alertname=TocsinWorkerDown", "service=tocsin") == "tocsin-oncall,tocsin"


def test_tocsin_receives_resolved_alerts_at_its_webhook() -> None:
    receivers = {r["name"]: r for r in yaml.safe_load(CONFIG.read_text())["receivers"]}
    (webhook,) = receivers["tocsin"]["webhook_configs"]
    assert webhook["url"] == "http://tocsin:6066/v1/alertmanager" and webhook["send_resolved"] is True
    assert "tocsin" not in receivers["tocsin-oncall"]["webhook_configs"][0]["url"].split("/")[2]


def test_a_broken_config_fails_amtool(tmp_path: Path) -> None:
    bad = tmp_path / "alertmanager.yml"
    bad.write_text("route:\n  receiver: nowhere\nreceivers:\n  - name: somewhere\n")
    assert amtool("check-config", str(bad)).returncode != 0
