"""A policy setting that would be accepted and do nothing is refused, naming its line and why."""

import pytest

from models.policy import PolicyError, load_policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("correlation:\n  max_agee: 3h\n", "line 2: correlation.max_agee: unknown key"),
        ("dedup:\n  fields:\n    alertmanager: [service]\n", "line 3: dedup.fields.alertmanager: has no effect"),
        ("dedup:\n  fields:\n    check: [region]\n", "line 3: dedup.fields.check: has no effect"),
        ("dedup:\n  fields:\n    nagios: [host]\n", "line 3: dedup.fields.nagios: unknown source"),
        ("dedup:\n  fields:\n    generic: []\n", "line 3: dedup.fields.generic: an empty list has no effect"),
        ("dedup:\n  fields:\n    report: [team]\n", "line 3: dedup.fields.report: a user report has no field 'team'"),
        ("correlation:\n  group_by:\n    nagios: [host]\n", "line 3: correlation.group_by.nagios: unknown source"),
        ("resolution:\n  stale_after:\n    nagios: 1h\n", "line 3: resolution.stale_after.nagios: unknown key"),
        ("flapping:\n  changes: 1\n", "line 2: flapping.changes: 1 acts as 2"),
        (
            "resolution:\n  stale_after:\n    generic: 30s\n",
            "line 3: resolution.stale_after.generic: 30s is not longer than dedup.repeat_after (1m)",
        ),
        ("correlation:\n  open_after:\n    signals: 0\n", "line 3: correlation.open_after.signals: 0 acts as 1"),
        (
            "severity:\n  rules:\n    - id: r\n      severity: P1\n      any:\n        - {impact: outtage}\n",
            "line 6: severity.rules[0].any[0].impact: impact is never 'outtage'",
        ),
        (
            "severity:\n  rules:\n    - id: r\n      severity: P1\n      any:\n        - {blast_radius: big}\n",
            "line 6: severity.rules[0].any[0].blast_radius: no such fact",
        ),
        (
            "severity:\n  rules:\n    - id: r\n      severity: P1\n      any:\n        - {user_reports: many}\n",
            "line 6: severity.rules[0].any[0].user_reports: user_reports is a count",
        ),
        (
            "severity:\n  rules:\n    - {id: a, severity: P3, any: [{}]}\n"
            "    - {id: b, severity: P1, any: [{scope: all}]}\n",
            "line 4: severity.rules[1]: rule 'b' can never match: rule 'a' before it matches every incident",
        ),
    ],
)
def test_a_setting_without_effect_is_refused_with_line_and_reason(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as refused:
        load_policy(text)
    assert message in str(refused.value)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(PolicyError) as refused:
        load_policy("flapping:\n  changes: 1\ndedup:\n  fields:\n    alertmanager: [service]\n")
    assert len(str(refused.value).splitlines()) == 2


def test_the_shipped_default_and_documented_examples_load() -> None:
    load_policy()
    load_policy("dedup: {fields: {generic: [service, check, region], pagerduty: [source], report: [reporter]}}")
    load_policy("correlation: {group_by: {pagerduty: [component, group]}, quiet: 30m}")
