"""Severity P0–P3 from the seed's criteria, as ordered rules over facts.

Facts are derived from an incident's signals (labels or annotations ``impact``, ``scope``,
``workaround``; the source's own severity), its services, failing checks and user reports.
The first matching rule wins, and its id and the facts it matched are the reasons carried
by every lifecycle event, so a page can always answer "why P0?".

Facts are computed over every signal the incident has held, not only the firing ones: an
incident that was an outage stays one while it recovers, so severity does not flap down.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.incident import Incident
from models.policy import Policy, SeverityRule
from models.signal import SignalKind

IMPACT_ORDER = ("", "cosmetic", "degradation", "outage", "data_loss", "security")
SCOPE_ORDER = ("", "none", "some", "multiple", "all")
SOURCE_SEVERITY_ORDER = ("", "info", "warning", "error", "critical")
_SOURCE_SEVERITY_ALIASES = {"page": "critical", "high": "error", "low": "info", "notice": "info", "warn": "warning"}
RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


@dataclass(frozen=True, slots=True)
class Classification:
    severity: str
    rule: str
    facts: dict[str, Any]

    @property
    def reasons(self) -> list[dict]:
        return [{"rule": self.rule, "facts": dict(self.facts)}]


def member_facts(kind: str, labels: dict[str, str], annotations: dict[str, str], severity: str) -> dict[str, Any]:
    """The severity-relevant facts one signal states about itself."""

    def read(name: str) -> str:
        return (labels.get(name) or annotations.get(name) or "").strip().lower()

    return {
        "severity": _SOURCE_SEVERITY_ALIASES.get(severity, severity),
        "impact": read("impact").replace("-", "_").replace(" ", "_"),
        "scope": read("scope"),
        "workaround": read("workaround"),
        "check_outage": kind == SignalKind.CHECK and read("impact") == "outage",
    }


def _highest(values: Iterable[str], order: tuple[str, ...]) -> str:
    known = [v for v in values if v in order]
    return max(known, key=order.index, default="")


def _workaround(said: set[str]) -> bool | None:
    if said & {"false", "no", "none"}:
        return False
    if said & {"true", "yes"}:
        return True
    return None


def incident_facts(incident: Incident) -> dict[str, Any]:
    tally = incident.tally
    return {
        "impact": _highest(tally.impact, IMPACT_ORDER),
        "scope": _highest(tally.scope, SCOPE_ORDER),
        "workaround": _workaround(set(tally.workaround)),
        "source_severity": _highest(tally.source_severity, SOURCE_SEVERITY_ORDER),
        "affected_services": len(incident.services),
        "failing_checks": tally.failing_checks,
        "check_outage": tally.check_outages > 0,
        "user_reports": tally.reports,
    }


def _holds(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return actual is not None and not isinstance(actual, bool) and actual >= expected.get("gte", 0)
    if isinstance(expected, list):
        return actual in expected
    if isinstance(expected, bool) or actual is None or isinstance(actual, bool):
        return actual is expected or actual == expected
    return str(actual) == str(expected)


def classify(facts: dict[str, Any], rules: tuple[SeverityRule, ...]) -> Classification:
    """First rule with a condition whose every fact holds; P3 if none does."""
    for rule in rules:
        for condition in rule.any:
            if all(_holds(expected, facts.get(name)) for name, expected in condition.items()):
                return Classification(rule.severity, rule.id, {name: facts.get(name) for name in condition})
    return Classification("P3", "no-rule-matched", {})


MEMO_SIZE = 4096


def classify_memo(facts: dict[str, Any], policy: Policy) -> Classification:
    """``classify`` with ``policy.rules``, remembered by facts: incidents share few fact sets."""
    memo = policy.classified
    key = tuple(facts.values())
    found = memo.get(key)
    if found is None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        found = memo[key] = classify(facts, policy.rules)
    return found


def is_upgrade(new: str, old: str) -> bool:
    return RANK[new] < RANK[old]
