"""Severity P0–P3 from the seed's criteria, as ordered rules over facts.

Facts are derived from an incident's signals (labels or annotations ``impact``,
``performance``, ``scope``, ``workaround``; the source's own severity), its services, failing
checks and user reports. Their values are the procedure's criteria, one per bullet:

| severity | impact | performance | scope | workaround |
|---|---|---|---|---|
| P0 | outage, data_loss, security | | all | |
| P1 | major_feature_broken | significant | multiple | false |
| P2 | minor_feature_broken | moderate | some | true |
| P3 | cosmetic, nice_to_have | minor | none | |

The first matching rule wins, and its id and the facts it matched are the reasons carried
by every lifecycle event, so a page can always answer "why P0?". A value no criterion
knows (``impact: catastrophic``) is never dropped in silence: the reasons name it under
``unrecognised``, and so does the decision on the signal that carried it.

Facts are computed over every signal the incident has held, not only the firing ones: an
incident that was an outage stays one while it recovers, so severity does not flap down.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.facts import (
    ALIASES,
    IMPACT_ORDER,
    KNOWN,
    KNOWN_SETS,
    PERFORMANCE_ORDER,
    SCOPE_ORDER,
    SOURCE_SEVERITY_ORDER,
)
from models.incident import Incident
from models.policy import Policy, SeverityRule
from models.signal import SignalKind

RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
MAX_UNRECOGNISED = 10


@dataclass(frozen=True, slots=True)
class Classification:
    severity: str
    rule: str
    facts: dict[str, Any]
    unrecognised: tuple[str, ...] = ()

    @property
    def reasons(self) -> list[dict]:
        reason: dict[str, Any] = {"rule": self.rule, "facts": dict(self.facts)}
        if self.unrecognised:
            reason["unrecognised"] = list(self.unrecognised)
        return [reason]


def _normal(fact: str, value: str) -> str:
    value = value.strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES[fact].get(value, value) if fact in ALIASES else value


def member_facts(kind: str, labels: dict[str, str], annotations: dict[str, str], severity: str) -> dict[str, Any]:
    """The severity-relevant facts one signal states about itself, values as stated
    (normalised: case, ``-``/space as ``_``, aliases), known or not. Shared: copy to change."""
    return stated_facts(kind, labels, annotations, severity)[0]


def stated_facts(
    kind: str, labels: dict[str, str], annotations: dict[str, str], severity: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``member_facts`` and the values among them no criterion knows (``unrecognised``),
    remembered by what the signal stated: alerts state few distinct combinations."""
    raw = (
        kind,
        severity,
        labels.get("impact") or annotations.get("impact") or "",
        labels.get("performance") or annotations.get("performance") or "",
        labels.get("scope") or annotations.get("scope") or "",
        labels.get("workaround") or annotations.get("workaround") or "",
    )
    found = _STATED.get(raw)
    if found is None:
        if len(_STATED) >= MEMO_SIZE:
            _STATED.clear()
        facts = _facts(*raw)
        found = _STATED[raw] = (facts, unrecognised(facts))
    return found


_STATED: dict[tuple[str, ...], tuple[dict[str, Any], tuple[str, ...]]] = {}


def _facts(kind: str, severity: str, impact: str, performance: str, scope: str, workaround: str) -> dict[str, Any]:
    impact, performance = _normal("impact", impact), _normal("performance", performance)
    if impact == "degradation":  # before the procedure's performance grades: unspecified size
        impact, performance = "", performance or "moderate"
    return {
        "severity": _normal("severity", severity),
        "impact": impact,
        "performance": performance,
        "scope": _normal("scope", scope),
        "workaround": _normal("workaround", workaround),
        "check_outage": kind == SignalKind.CHECK and impact == "outage",
    }


def unrecognised(facts: dict[str, Any]) -> tuple[str, ...]:
    """``fact=value`` for each value of ``facts`` no criterion knows."""
    return tuple(f"{name}={facts[name]}" for name, known in KNOWN.items() if facts.get(name, "") not in known)


def _highest(values: Iterable[str], order: tuple[str, ...]) -> str:
    if not values:
        return ""
    known = [v for v in values if v in order]
    return max(known, key=order.index, default="")


def _workaround(said: Iterable[str]) -> bool | None:
    said = set(said)
    return False if "false" in said else True if "true" in said else None


def _unknown_values(incident: Incident) -> tuple[str, ...]:
    tally, known = incident.tally, KNOWN_SETS
    if (
        tally.impact.keys() <= known["impact"]
        and tally.source_severity.keys() <= known["severity"]
        and tally.scope.keys() <= known["scope"]
        and tally.performance.keys() <= known["performance"]
        and tally.workaround.keys() <= known["workaround"]
    ):
        return ()  # the common case: every value stated is known
    stated = {
        "impact": tally.impact,
        "performance": tally.performance,
        "scope": tally.scope,
        "workaround": tally.workaround,
        "severity": tally.source_severity,
    }
    unknown = [f"{name}={v}" for name, values in stated.items() for v in sorted(values) if v not in KNOWN[name]]
    if len(unknown) > MAX_UNRECOGNISED:  # every event carries them: a bounded list
        unknown[MAX_UNRECOGNISED:] = [f"+{len(unknown) - MAX_UNRECOGNISED} more"]
    return tuple(unknown)


def incident_facts(incident: Incident) -> dict[str, Any]:
    tally = incident.tally
    return {
        "impact": _highest(tally.impact, IMPACT_ORDER),
        "performance": _highest(tally.performance, PERFORMANCE_ORDER),
        "scope": _highest(tally.scope, SCOPE_ORDER),
        "workaround": _workaround(tally.workaround),
        "source_severity": _highest(tally.source_severity, SOURCE_SEVERITY_ORDER),
        "affected_services": len(incident.services),
        "failing_checks": tally.failing_checks,
        "check_outage": tally.check_outages > 0,
        "user_reports": tally.reports,
        "unrecognised": _unknown_values(incident),
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
    unknown = facts.get("unrecognised", ())
    for rule in rules:
        for condition in rule.any:
            if all(_holds(expected, facts.get(name)) for name, expected in condition.items()):
                return Classification(rule.severity, rule.id, {name: facts.get(name) for name in condition}, unknown)
    return Classification("P3", "no-rule-matched", {}, unknown)


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
