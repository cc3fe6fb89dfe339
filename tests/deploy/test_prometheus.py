"""Prometheus configuration and rules, checked and unit-tested by promtool itself."""

import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*_test.yml"))


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True)


def alert_rules() -> list[dict]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_config_and_rules_pass_promtool_check() -> None:
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(RULE_FILES)} rule files found" in checked.stdout + checked.stderr


@pytest.mark.parametrize("tests", RULE_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(tests: Path) -> None:
    result = promtool("test", "rules", str(tests.relative_to(PROMETHEUS)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_a_summary_and_a_runbook() -> None:
    tested = "\n".join(path.read_text() for path in RULE_TESTS)
    for rule in alert_rules():
        name = rule["alert"]
        assert f"alertname: {name}\n" in tested, f"{name} has no promtool test"
        assert rule["annotations"]["summary"], name
        url = rule["annotations"]["runbook_url"]
        assert "/deploy/runbooks/" in url, url
        assert (DEPLOY / "runbooks" / url.rsplit("/", 1)[-1]).is_file(), f"{name}: no runbook at {url}"
        assert rule["labels"]["severity"] in ("critical", "error", "warning"), name  # tocsin's source severities


def test_the_procedures_alerts_are_there_as_written() -> None:
    rules = {r["alert"]: r for r in alert_rules()}
    assert (rules["SystemDown"]["expr"], rules["SystemDown"]["for"]) == ('up{job="apex-api"} == 0', "1m")
    assert rules["HighErrorRate"]["expr"] == 'rate(http_requests_total{status=~"5.."}[5m]) > 0.05'
    assert rules["HighErrorRate"]["for"] == "5m"
    own = {name for name, rule in rules.items() if rule["labels"].get("service") == "tocsin"}
    assert {"TocsinWorkerDown", "TocsinConsumerLagGrowing", "TocsinDeadLetterRate"} <= own
    assert "TocsinClickHouseSinkFailing" in own


def test_a_broken_rule_fails_promtool(tmp_path: Path) -> None:
    """The checker really checks: a rule with a syntax error is refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: up{job= == 0\n")
    assert promtool("check", "rules", str(bad)).returncode != 0
