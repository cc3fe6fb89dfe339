"""Severity from the procedure's criteria (``shared`` incident-management procedure,
"Severity Levels"), bullet by bullet: one row per bullet, as a sender states it in labels,
annotations or PagerDuty ``custom_details``; then combinations, where the highest applicable
severity wins; then values no criterion knows, which are named, never dropped."""

import pytest

from models.engine import step_in_place
from models.limits import Limits
from models.parsers import parse_alerts
from models.policy import load_policy
from models.state import KeyState
from tests.support.engine import T0, Run, alert

# (procedure bullet, facts as labels, severity, the rule's matched condition)
BULLETS = [
    ("P0: complete system outage", {"impact": "outage"}, "P0", {"impact": "outage"}),
    ("P0: data loss or corruption", {"impact": "data_loss"}, "P0", {"impact": "data_loss"}),
    ("P0: data corruption (alias)", {"impact": "data-corruption"}, "P0", {"impact": "data_loss"}),
    ("P0: security breach", {"impact": "security"}, "P0", {"impact": "security"}),
    ("P0: affects all users", {"scope": "all"}, "P0", {"scope": "all"}),
    ("P1: major feature broken", {"impact": "major_feature_broken"}, "P1", {"impact": "major_feature_broken"}),
    ("P1: significant performance degradation", {"performance": "significant"}, "P1", {"performance": "significant"}),
    ("P1: affects multiple users", {"scope": "multiple"}, "P1", {"scope": "multiple"}),
    ("P1: no workaround", {"workaround": "false"}, "P1", {"workaround": False}),
    ("P2: minor feature broken", {"impact": "minor-feature-broken"}, "P2", {"impact": "minor_feature_broken"}),
    ("P2: moderate performance issues", {"performance": "moderate"}, "P2", {"performance": "moderate"}),
    ("P2: workaround available", {"workaround": "yes"}, "P2", {"workaround": True}),
    ("P2: affects some users", {"scope": "some"}, "P2", {"scope": "some"}),
    ("P3: cosmetic issues", {"impact": "cosmetic"}, "P3", {"impact": "cosmetic"}),
    ("P3: minor performance degradation", {"performance": "minor"}, "P3", {"performance": "minor"}),
    ("P3: no user impact", {"scope": "none"}, "P3", {"scope": "none"}),
    ("P3: nice-to-have fixes", {"impact": "nice to have"}, "P3", {"impact": "nice_to_have"}),
]
RULE = {"P0": "p0-critical", "P1": "p1-high", "P2": "p2-medium", "P3": "p3-low"}


@pytest.mark.parametrize(("bullet", "labels", "severity", "matched"), BULLETS, ids=[b[0] for b in BULLETS])
def test_each_bullet_of_the_procedure_gives_its_severity(bullet: str, labels: dict, severity: str, matched: dict):
    run = Run()
    run.feed(alert(**labels))
    assert run.incident.severity == severity, bullet
    assert run.incident.reasons == [{"rule": RULE[severity], "facts": matched}]


@pytest.mark.parametrize(("bullet", "labels", "severity", "matched"), BULLETS, ids=[b[0] for b in BULLETS])
def test_facts_stated_as_annotations_count_the_same(bullet: str, labels: dict, severity: str, matched: dict):
    run = Run()
    signal = alert()
    run.feed(type(signal)(**{**_fields(signal), "annotations": labels}))
    assert run.incident.severity == severity, bullet


def _fields(signal) -> dict:
    return {name: getattr(signal, name) for name in signal.__dataclass_fields__}


@pytest.mark.parametrize(
    ("signals", "severity"),
    [
        # one signal stating several criteria: the highest applicable wins
        ([{"impact": "cosmetic", "scope": "all"}], "P0"),
        ([{"impact": "minor_feature_broken", "workaround": "false"}], "P1"),
        ([{"performance": "minor", "workaround": "true"}], "P2"),
        ([{"impact": "outage", "workaround": "true"}], "P0"),
        # an incident's fact is the highest its signals state
        ([{"performance": "moderate"}, {"performance": "significant"}], "P1"),
        ([{"scope": "none"}, {"scope": "some"}], "P2"),
        ([{"impact": "cosmetic"}, {"impact": "data_loss"}], "P0"),
        # "no workaround" from any signal outweighs "workaround available" from another
        ([{"workaround": "true"}, {"workaround": "false"}], "P1"),
        # the earlier `impact: degradation` reads as a moderate performance issue
        ([{"impact": "degradation"}], "P2"),
    ],
)
def test_combinations_take_the_highest_applicable_severity(signals: list[dict], severity: str) -> None:
    run = Run()
    run.feed(*[alert(f"A{i}", **labels) for i, labels in enumerate(signals)])
    assert len(run.state.incidents) == 1 and run.incident.severity == severity


def test_an_unknown_value_is_named_in_the_reasons_and_the_decision() -> None:
    state, policy = KeyState(), load_policy()
    events, decision = step_in_place(state, alert(impact="catastrophic", scope="all"), T0, policy, key="api")
    incident = next(iter(state.incidents.values()))
    assert incident.severity == "P0"  # the known fact still counts
    assert incident.reasons == [
        {"rule": "p0-critical", "facts": {"scope": "all"}, "unrecognised": ["impact=catastrophic"]}
    ]
    assert events[0].reasons == tuple(incident.reasons)
    assert decision.unrecognised == ("impact=catastrophic",)
    assert "impact=catastrophic" in decision.reason


def test_pagerduty_custom_details_state_the_same_facts() -> None:
    body = (
        b'{"routing_key":"r","event_action":"trigger","payload":{"summary":"checkout slow","source":"web",'
        b'"severity":"info","custom_details":{"service":"checkout","performance":"significant"}}}'
    )
    parsed = parse_alerts(body, Limits(), T0)
    run = Run()
    run.feed(*parsed.inputs)
    assert (run.incident.severity, run.incident.reasons[0]["facts"]) == ("P1", {"performance": "significant"})


def test_a_gated_signal_keeps_the_facts_it_stated_in_annotations() -> None:
    """With ``open_after`` gating, the first signals join only when the incident opens."""
    policy = load_policy("correlation: {open_after: {signals: 2}}")
    run = Run(policy=policy)
    first = alert("A")
    run.feed(type(first)(**{**_fields(first), "annotations": {"impact": "outage"}}), alert("B"))
    assert (run.incident.severity, run.incident.reasons[0]["facts"]) == ("P0", {"impact": "outage"})


def test_many_unknown_values_are_named_in_a_bounded_list() -> None:
    run = Run()
    run.feed(*[alert(f"A{i}", impact=f"odd-{i:02d}") for i in range(25)])
    unknown = run.incident.reasons[0]["unrecognised"]
    assert unknown[:2] == ["impact=odd_00", "impact=odd_01"] and unknown[-1] == "+15 more" and len(unknown) == 11
