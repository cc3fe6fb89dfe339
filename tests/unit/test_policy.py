"""Policy files: merged over the shipped default, validated up front."""

import pytest

from models.durations import parse_duration
from models.policy import PolicyError, load_policy


def test_default_targets_are_the_seeds() -> None:
    policy = load_policy()
    assert (policy.sla["P0"].response_ms, policy.sla["P0"].resolution_ms) == (15 * 60_000, 4 * 3_600_000)
    assert (policy.sla["P1"].response_ms, policy.sla["P1"].resolution_ms) == (3_600_000, 24 * 3_600_000)
    assert policy.postmortem_severities == {"P0", "P1"}
    assert (policy.postmortem_initial_ms, policy.postmortem_detailed_ms) == (86_400_000, 7 * 86_400_000)


def test_a_policy_names_only_what_it_changes() -> None:
    policy = load_policy("correlation: {reopen_window: 1h}\nsla: {P2: {response: 2h, resolution: 2d}}")
    assert policy.reopen_window_ms == 3_600_000
    assert policy.max_age_ms == 86_400_000
    assert policy.sla["P2"].response_ms == 7_200_000 and policy.sla["P0"].response_ms == 900_000


@pytest.mark.parametrize(
    "text",
    [
        "corelation: {}",
        "correlation: {reopen_window: soon}",
        "severity: {rules: [{id: x, severity: P7, any: [{}]}]}",
        "resolution: {auto: sometimes}",
        "suppression: {maintenance: [{service: db, days: [someday], start: '01:00', end: '02:00'}]}",
        "suppression: {silences: [{matchers: {a: '=~('}, starts_at: '2025-01-01T00:00:00Z', ends_at: x}]}",
        "- not a mapping",
    ],
)
def test_invalid_policies_fail_with_a_clear_error(text: str) -> None:
    with pytest.raises(PolicyError):
        load_policy(text)


@pytest.mark.parametrize(
    ("text", "ms"),
    [("90s", 90_000), ("15m", 900_000), ("1h30m", 5_400_000), ("7d", 604_800_000), (30, 30_000), ("0", 0)],
)
def test_durations(text: object, ms: int) -> None:
    assert parse_duration(text) == ms
