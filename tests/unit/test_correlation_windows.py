"""Which incident a signal joins: the key (``key_labels``, ``group_by``) and the windows
(``max_age``, ``quiet``) — what each setting does, not only that it does something."""

from models.engine import correlation_key
from models.policy import load_policy
from tests.support.engine import MIN, T0, Run, alert, resolved


def test_key_labels_name_the_key_first_non_empty_first() -> None:
    policy = load_policy("correlation: {key_labels: [team, alertname]}")
    assert correlation_key(alert("Down", team="payments"), policy) == "payments"
    assert correlation_key(alert("Down"), policy) == "Down"  # no team label: the next one
    assert correlation_key(alert("Down"), load_policy()) == "api"  # default: service first


def test_group_by_keys_a_source_by_the_named_labels() -> None:
    policy = load_policy("correlation: {group_by: {alertmanager: [cluster, alertname]}}")
    assert correlation_key(alert("Down", cluster="eu-1"), policy) == "cluster=eu-1,alertname=Down"
    run = Run(policy=policy)
    run.feed(alert("Down", cluster="eu-1", service="api"), alert("Down", cluster="eu-1", service="web"))
    assert len(run.state.incidents) == 1 and sorted(run.incident.services) == ["api", "web"]


def test_max_age_stops_an_old_incident_absorbing_signals() -> None:
    policy = load_policy("correlation: {max_age: 1h}")
    run = Run(policy=policy)
    run.feed(alert("A"), alert("B", starts=T0 + 30 * MIN))
    assert len(run.state.incidents) == 1
    run.feed(alert("C", starts=T0 + 61 * MIN))
    assert len(run.state.incidents) == 2 and run.kinds()[-1] == "opened"


def test_quiet_stops_an_inactive_incident_absorbing_signals() -> None:
    policy = load_policy("correlation: {quiet: 10m}")
    run = Run(policy=policy)
    run.feed(alert("A"), alert("B", starts=T0 + 9 * MIN))  # activity at +9m
    assert len(run.state.incidents) == 1
    run.feed(alert("C", starts=T0 + 18 * MIN))  # 9 minutes after the last activity: joins
    assert len(run.state.incidents) == 1
    run.feed(alert("D", starts=T0 + 29 * MIN))  # 11 minutes quiet: a new incident
    assert len(run.state.incidents) == 2


def test_a_resolving_member_is_activity_too() -> None:
    policy = load_policy("correlation: {quiet: 10m, open_after: {signals: 1}}")
    run = Run(policy=policy)
    a, b = alert("A"), alert("B")
    run.feed(a, b, resolved(a, T0 + 8 * MIN))
    run.feed(alert("C", starts=T0 + 17 * MIN))
    assert len(run.state.incidents) == 1


def test_quiet_and_max_age_apply_to_open_incidents_only_a_resolved_one_reopens() -> None:
    policy = load_policy("correlation: {quiet: 5m, reopen_window: 1h}")
    run = Run(policy=policy)
    a = alert("A")
    run.feed(a, resolved(a, T0 + MIN), alert("A", starts=T0 + 30 * MIN))
    assert run.kinds() == ["opened", "signal_resolved", "resolved", "reopened"]
