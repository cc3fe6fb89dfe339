"""The vocabulary of severity facts: what a signal may state, and what rules may test.

Values follow the procedure's severity criteria, one per bullet (see ``models.severity``).
Kept apart so that policy validation (``models.policy_lint``) and classification share it.
"""

# Each fact's values, lowest first: an incident's fact is the highest its signals state.
IMPACT_ORDER = (
    "",
    "nice_to_have",
    "cosmetic",
    "minor_feature_broken",
    "major_feature_broken",
    "outage",
    "data_loss",
    "security",
)
PERFORMANCE_ORDER = ("", "minor", "moderate", "significant")
SCOPE_ORDER = ("", "none", "some", "multiple", "all")
WORKAROUND_VALUES = ("", "true", "false")
SOURCE_SEVERITY_ORDER = ("", "info", "warning", "error", "critical")
#: Every fact a rule may test, and the values it may test them against (``None``: a number
#: or a flag). ``tocsin policy --check`` rejects conditions outside this.
RULE_FACTS: dict[str, tuple[object, ...] | None] = {
    "impact": IMPACT_ORDER[1:],
    "performance": PERFORMANCE_ORDER[1:],
    "scope": SCOPE_ORDER[1:],
    "workaround": (True, False),
    "source_severity": SOURCE_SEVERITY_ORDER[1:],
    "affected_services": None,
    "failing_checks": None,
    "check_outage": (True, False),
    "user_reports": None,
}
ALIASES = {
    "impact": {"corruption": "data_loss", "data_corruption": "data_loss", "security_breach": "security"},
    "performance": {"high": "significant", "severe": "significant", "medium": "moderate", "low": "minor"},
    "workaround": {"yes": "true", "no": "false", "none": "false"},
    "severity": {"page": "critical", "high": "error", "low": "info", "notice": "info", "warn": "warning"},
}
#: Labels (or annotations) a signal states its facts in.
FACT_LABELS = ("impact", "performance", "scope", "workaround")
KNOWN = {
    "impact": IMPACT_ORDER,
    "performance": PERFORMANCE_ORDER,
    "scope": SCOPE_ORDER,
    "workaround": WORKAROUND_VALUES,
    "severity": SOURCE_SEVERITY_ORDER,
}
#: ``KNOWN`` as sets: the common case, every stated value known, is one subset test each.
KNOWN_SETS = {name: frozenset(values) for name, values in KNOWN.items()}
FACT_LABEL_SET = frozenset(FACT_LABELS)
