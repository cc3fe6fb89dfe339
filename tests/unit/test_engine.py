"""The incident engine, decision by decision (table-driven where it reads better)."""

import pytest

from models.engine import step_in_place
from models.flapping import STEADY
from models.lifecycle import EventKind
from models.policy import load_policy
from models.state import KeyState, Outcome
from tests.support.engine import DAY, HOUR, MIN, SEC, T0, Run, alert, check, command, report, resolved


def policy(yaml: str):
    return load_policy(yaml)


# --- dedup -------------------------------------------------------------------------------


def test_first_firing_opens_at_its_start_with_reasons() -> None:
    run = Run()
    events = run.feed(alert(severity="critical"))
    assert run.kinds(events) == ["opened"]
    opened = events[0]
    assert (opened.at, opened.seq, opened.severity, opened.status) == (T0, 1, "P0", "detected")
    assert opened.reasons == ({"rule": "p0-critical", "facts": {"source_severity": "critical"}},)


def test_exact_duplicate_is_dropped_and_counted() -> None:
    run = Run()
    run.feed(alert(), alert())
    assert [d.outcome for d in run.decisions] == [Outcome.ACCEPTED, Outcome.DUPLICATE]
    assert run.kinds() == ["opened"]


def test_changed_content_is_an_update_not_a_duplicate() -> None:
    run = Run()
    first = alert()
    from dataclasses import replace

    run.feed(first, replace(first, annotations={"summary": "now with more detail"}))
    assert run.decisions[1].outcome is Outcome.ACCEPTED
    assert run.kinds() == ["opened"]


def test_older_activation_is_stale() -> None:
    run = Run()
    run.feed(alert(starts=T0 + 10 * MIN), alert(starts=T0))
    assert run.decisions[1].outcome is Outcome.STALE


def test_late_firing_of_a_resolved_activation_is_stale() -> None:
    run = Run()
    a = alert()
    from dataclasses import replace

    run.feed(a, resolved(a, T0 + 5 * MIN), a, replace(a, annotations={"summary": "late, changed copy"}))
    assert [d.outcome for d in run.decisions[2:]] == [Outcome.DUPLICATE, Outcome.STALE]
    assert run.kinds() == ["opened", "signal_resolved", "resolved"]


# --- correlation -------------------------------------------------------------------------


def test_signals_of_one_service_share_an_incident() -> None:
    run = Run()
    events = run.feed(alert("A"), alert("B", starts=T0 + MIN))
    assert run.kinds(events) == ["opened", "signal_added"]
    assert len({e.incident_id for e in events}) == 1


def test_group_resolving_one_by_one_resolves_at_the_last_end() -> None:
    run = Run()
    a, b = alert("A"), alert("B", starts=T0 + MIN)
    run.feed(a, b, resolved(a, T0 + 30 * MIN), resolved(b, T0 + 45 * MIN))
    assert run.kinds() == ["opened", "signal_added", "signal_resolved", "signal_resolved", "resolved"]
    assert run.events[-1].at == T0 + 45 * MIN
    assert run.incident.resolved_at == T0 + 45 * MIN


def test_reopen_inside_the_window_and_new_incident_after_it() -> None:
    run = Run()
    a = alert()
    run.feed(a, resolved(a, T0 + 10 * MIN))
    first = run.incident_id
    run.feed(alert(starts=T0 + 20 * MIN))  # 10 min after resolution, window is 30 min
    assert run.kinds()[-1] == "reopened"
    assert run.incident_id == first
    run.feed(resolved(alert(starts=T0 + 20 * MIN), T0 + 25 * MIN))
    run.feed(alert(starts=T0 + 2 * HOUR))
    assert run.kinds()[-1] == "opened"
    assert run.incident_id != first


def test_incident_stops_absorbing_after_max_age() -> None:
    run = Run(policy=policy("correlation: {max_age: 1h}"))
    run.feed(alert("A"), alert("B", starts=T0 + 2 * HOUR))
    assert run.kinds() == ["opened", "opened"]
    assert len(run.state.incidents) == 2


def test_dependency_graph_merges_services_and_names_the_root_cause() -> None:
    run = Run(policy=policy("correlation: {dependencies: {checkout: [payments], payments: [postgres]}}"))
    from models.engine import correlation_key

    keys = {correlation_key(alert(service=s), run.policy) for s in ("checkout", "payments", "postgres")}
    assert len(keys) == 1
    run.feed(
        alert("Errors", service="checkout"),
        alert("Down", service="postgres", starts=T0 + MIN),
        alert("Slow", service="payments", starts=T0 + 2 * MIN),
    )
    assert run.kinds() == ["opened", "signal_added", "signal_added", "severity_changed"]
    assert run.incident.services == ["checkout", "payments", "postgres"]
    assert run.events[-1].reasons[0]["facts"] == {"affected_services": 3}
    assert run.events[-1].root_cause == "postgres"


def test_gating_opens_only_after_enough_signals() -> None:
    run = Run(policy=policy("correlation: {open_after: {signals: 2, within: 5m}}"))
    run.feed(alert("A"))
    assert run.decisions[0].outcome is Outcome.GATED
    assert run.events == []
    run.feed(alert("B", starts=T0 + 10 * MIN))  # outside the window: A no longer counts
    assert run.decisions[1].outcome is Outcome.GATED
    run.feed(alert("C", starts=T0 + 12 * MIN))
    assert run.kinds() == ["opened"]
    assert set(run.incident.members) == {alert("B").fingerprint, alert("C").fingerprint}
    assert run.events[0].at == T0 + 10 * MIN


# --- checks ------------------------------------------------------------------------------


def test_check_fires_after_three_failures_and_resolves_after_two_passes() -> None:
    run = Run()
    run.feed(check("fail", T0), check("fail", T0 + MIN))
    assert run.events == []
    run.feed(check("fail", T0 + 2 * MIN))
    assert run.kinds() == ["opened"]
    assert run.events[0].at == T0 + 2 * MIN
    run.feed(check("pass", T0 + 3 * MIN))
    assert run.kinds()[-1] == "opened"
    run.feed(check("pass", T0 + 4 * MIN))
    assert run.kinds()[-2:] == ["signal_resolved", "resolved"]
    assert run.incident.resolved_at == T0 + 4 * MIN


def test_check_results_out_of_order_give_the_same_verdict() -> None:
    ordered, shuffled = Run(), Run()
    results = [check("fail", T0 + i * MIN) for i in range(3)]
    ordered.feed(*results)
    shuffled.feed(results[2], results[0], results[1])
    assert ordered.kinds() == shuffled.kinds() == ["opened"]


def test_failing_everywhere_is_an_outage_and_upgrades_p2_to_p0() -> None:
    run = Run()
    run.feed(alert("HighErrorRate", severity="warning"))
    assert run.incident.severity == "P2"
    run.feed(*[check("fail", T0 + i * MIN, region="eu") for i in range(1, 4)])
    assert run.incident.severity == "P2"  # one region failing: a failing check, not an outage
    run.feed(*[check("fail", T0 + i * MIN, region="us") for i in range(1, 4)])
    assert run.incident.severity == "P0"
    changed = [e for e in run.events if e.kind is EventKind.SEVERITY_CHANGED]
    assert changed[-1].details == {"from": "P2", "to": "P0"}
    assert changed[-1].reasons[0]["facts"] == {"impact": "outage"}


# --- flapping ----------------------------------------------------------------------------


def test_flapping_signal_keeps_its_incident_open_and_stops_when_quiet() -> None:
    run = Run()
    t, current = T0, alert()
    run.feed(current)
    for i in range(1, 10):  # resolved / firing again every 30 s, ending resolved
        t += 30 * SEC
        current = resolved(current, t) if i % 2 else alert(starts=t)
        run.feed(current)
    kinds = run.kinds()
    start = kinds.index("flapping_started")
    assert not {"resolved", "reopened", "signal_resolved"} & set(kinds[start + 2 :])
    assert run.incident.status == "detected"  # the last change resolved it, yet it stays open
    stopped = run.tick(t + 15 * MIN)
    assert [str(e.kind) for e in stopped] == ["flapping_stopped", "resolved"]
    assert (stopped[0].at, stopped[1].at) == (t + 15 * MIN, t)


def test_a_signal_the_gate_holds_stops_flapping_when_quiet_before_it_joins_an_incident() -> None:
    """Held outside any incident, it still stops flapping once quiet, at the tick its key is
    due: so a tick replayed on a later state (after a crash) does what the live one did."""
    from models.timers import next_due

    gated = load_policy("correlation: {open_after: {signals: 3, within: 2h}}\nflapping: {changes: 2}\n")
    run = Run(policy=gated)
    run.feed(alert("A"), resolved(alert("A"), T0 + MIN), alert("A", starts=T0 + 2 * MIN))
    fp = alert("A").fingerprint
    assert run.state.signals[fp].flap.flapping and not run.state.incidents
    quiet_at = T0 + 2 * MIN + gated.flap_quiet_ms
    assert next_due(run.state, gated) == quiet_at
    assert run.tick(quiet_at) == [] and not run.state.signals[fp].flap.flapping  # no incident to tell
    run.feed(alert("B", starts=quiet_at), alert("C", starts=quiet_at))
    assert run.kinds() == ["opened"]  # A joins steady


def test_steady_signals_share_one_flap_state_that_changes_never_touch() -> None:
    policy, state = load_policy(), KeyState()
    t, flappy = T0, alert("Flappy")
    step_in_place(state, alert("Steady"), T0, policy, key="api")
    step_in_place(state, flappy, T0, policy, key="api")
    for i in range(1, 6):
        t += 30 * SEC
        flappy = resolved(flappy, t) if i % 2 else alert("Flappy", starts=t)
        step_in_place(state, flappy, t, policy, key="api")
    steady, flapping = (state.signals[alert(name).fingerprint] for name in ("Steady", "Flappy"))
    assert steady.flap is STEADY and STEADY.changes == () and not STEADY.flapping
    assert flapping.flap.flapping and len(flapping.flap.changes) >= 4
    restored = KeyState.from_json(state.to_json())
    assert restored.signals[alert("Steady").fingerprint].flap is STEADY
    assert restored.to_json() == state.to_json()


# --- severity ----------------------------------------------------------------------------


def test_user_reports_raise_severity() -> None:
    run = Run()
    run.feed(report(T0))
    assert (run.kinds(), run.incident.severity) == (["opened"], "P2")
    run.feed(*[report(T0 + i * MIN, reporter=f"user{i}") for i in range(1, 5)])
    assert run.incident.severity == "P1"
    assert run.incident.reasons[0]["facts"] == {"user_reports": 5}


@pytest.mark.parametrize(("allow", "expected"), [(False, "P0"), (True, "P3")])
def test_no_automatic_downgrade_unless_configured(allow: bool, expected: str) -> None:
    from dataclasses import replace

    run = Run(policy=policy(f"severity: {{allow_downgrade: {str(allow).lower()}}}"))
    a = alert(severity="critical")
    run.feed(a, replace(a, severity="", labels={"alertname": "SystemDown", "service": "api"}))
    assert run.incident.severity == expected
    assert ("severity_changed" in run.kinds()) is allow


def test_human_severity_wins_until_cleared() -> None:
    run = Run()
    run.feed(alert())
    incident = run.incident_id
    run.feed(command("severity", incident, T0 + MIN, severity="P1", text="customer escalation"))
    assert run.incident.severity == "P1"
    assert run.events[-1].reasons[0]["rule"] == "manual"
    run.feed(alert("Critical", starts=T0 + 2 * MIN, severity="critical"))
    assert run.incident.severity == "P1"  # the rules would say P0; the human said P1
    run.feed(command("severity", incident, T0 + 3 * MIN, severity="auto"))
    assert run.incident.severity == "P0"
    assert run.events[-1].details == {"from": "P1", "to": "P0", "override": "cleared"}


# --- suppression -------------------------------------------------------------------------


def test_silence_suppresses_with_reason_and_opens_nothing() -> None:
    run = Run(
        policy=policy(
            "suppression: {silences: [{matchers: {alertname: '=~Disk.*'}, starts_at: '2025-01-27T13:00:00Z',"
            " ends_at: '2025-01-27T15:00:00Z', comment: disk swap}]}"
        )
    )
    run.feed(alert("DiskFull"))
    silence = run.policy.silences[0]
    assert (run.decisions[0].outcome, run.decisions[0].reason) == (Outcome.SUPPRESSED, f"{silence.reason}")
    assert run.decisions[0].reason.endswith(": disk swap") and silence.silence_id in run.decisions[0].reason
    run.feed(alert("DiskFull", starts=T0 + 2 * HOUR))  # after the silence ended
    assert run.kinds() == ["opened"]


def test_maintenance_window_recurs_weekly() -> None:
    # 2025-01-27 is a Monday; the window is Mondays 13:30-14:30 UTC
    run = Run(policy=policy("suppression: {maintenance: [{service: api, days: [mon], start: '13:30', end: '14:30'}]}"))
    run.feed(alert("A"), alert("B", starts=T0 + 7 * DAY), alert("C", starts=T0 + 1 * DAY))
    assert [d.outcome for d in run.decisions] == [Outcome.SUPPRESSED, Outcome.SUPPRESSED, Outcome.ACCEPTED]


def test_inhibition_by_a_firing_source() -> None:
    run = Run(
        policy=policy(
            "suppression: {inhibit: [{source: {alertname: SystemDown}, target: {severity: warning}, equal: [service]}]}"
        )
    )
    run.feed(alert("SystemDown", severity="critical"), alert("HighLatency", starts=T0 + MIN, severity="warning"))
    assert run.decisions[1].outcome is Outcome.SUPPRESSED
    assert run.decisions[1].reason == "inhibited: by SystemDown"


# --- lifecycle and commands --------------------------------------------------------------


def test_full_lifecycle_through_commands() -> None:
    run = Run()
    run.feed(alert(severity="critical"))
    inc = run.incident_id
    run.feed(
        command("ack", inc, T0 + 5 * MIN),
        command("assign", inc, T0 + 6 * MIN, role="incident_commander", assignee="carol"),
        command("note", inc, T0 + 10 * MIN, text="connection pool exhausted"),
        command("resolve", inc, T0 + 45 * MIN),
        command("close", inc, T0 + DAY, postmortem_url="https://wiki/pm/1"),
    )
    assert run.kinds() == ["opened", "acknowledged", "role_assigned", "note_added", "resolved", "closed"]
    statuses = [e.status for e in run.events]
    assert statuses == ["detected", "acknowledged", "investigating", "investigating", "resolved", "closed"]
    final = run.events[-1]
    assert (final.acknowledged_at, final.resolved_at, final.closed_at) == (T0 + 5 * MIN, T0 + 45 * MIN, T0 + DAY)
    assert final.details == {"postmortem_url": "https://wiki/pm/1"}
    assert run.events[2].details == {"role": "incident_commander", "assignee": "carol"}
    assert run.incident.roles == {"incident_commander": "carol"}


def test_commands_are_idempotent_and_unknown_incidents_rejected() -> None:
    run = Run()
    run.feed(alert())
    ack = command("ack", run.incident_id, T0 + MIN)
    run.feed(ack, ack, command("ack", "nope-123", T0))
    assert [d.outcome for d in run.decisions[1:]] == [Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.REJECTED]
    assert run.decisions[-1].reason == "unknown_incident"


def test_assign_on_a_detected_incident_acknowledges_it() -> None:
    run = Run()
    run.feed(alert())
    run.feed(command("assign", run.incident_id, T0 + MIN, role="technical_lead", assignee="dan"))
    assert run.kinds() == ["opened", "acknowledged", "role_assigned"]


def test_reopen_and_resolve_by_hand() -> None:
    run = Run()
    run.feed(alert())
    inc = run.incident_id
    run.feed(command("resolve", inc, T0 + MIN), command("reopen", inc, T0 + 2 * MIN, text="not fixed"))
    assert run.kinds() == ["opened", "resolved", "reopened"]
    assert run.incident.status == "detected" and run.incident.resolved_at == 0


@pytest.mark.parametrize(
    ("mode", "resolves_after"),
    [("all", 3), ("first", 1), ("last", 2), ("manual", None)],
)
def test_auto_resolution_modes(mode: str, resolves_after: int | None) -> None:
    run = Run(policy=policy(f"resolution: {{auto: {mode}}}"))
    a, b, c = alert("A"), alert("B", starts=T0 + MIN), alert("C", starts=T0 + 2 * MIN)
    run.feed(a, c, b)  # C fired after A; B fired last
    order = [resolved(a, T0 + 10 * MIN), resolved(b, T0 + 11 * MIN), resolved(c, T0 + 12 * MIN)]
    for count, signal in enumerate(order, 1):
        run.feed(signal)
        if run.incident.status == "resolved":
            assert count == resolves_after
            return
    assert resolves_after is None


# --- time: staleness, SLA, post-mortem, retention ----------------------------------------


def test_api_v2_alert_past_its_ends_at_goes_stale_at_that_time() -> None:
    run = Run()
    run.feed(alert(ends=T0 + 4 * MIN))
    assert run.tick(T0 + 3 * MIN) == []
    events = run.tick(T0 + 10 * MIN)
    assert [(str(e.kind), e.at) for e in events] == [("signal_resolved", T0 + 4 * MIN), ("resolved", T0 + 4 * MIN)]


def test_sla_breach_is_stamped_with_its_deadline_and_emitted_once() -> None:
    run = Run()
    run.feed(alert(severity="critical"))  # P0: respond within 15 min
    assert run.tick(T0 + 14 * MIN) == []
    events = run.tick(T0 + 20 * MIN)
    assert [(str(e.kind), e.at, e.details["sla"]) for e in events] == [("sla_breached", T0 + 15 * MIN, "response")]
    assert run.tick(T0 + 30 * MIN) == []


def test_late_acknowledgement_records_the_breach_first() -> None:
    run = Run()
    run.feed(alert(severity="critical"))
    events = run.feed(command("ack", run.incident_id, T0 + 20 * MIN))
    assert [(str(e.kind), e.at) for e in events] == [("sla_breached", T0 + 15 * MIN), ("acknowledged", T0 + 20 * MIN)]


def test_postmortems_due_for_p0_after_resolution() -> None:
    run = Run()
    a = alert(severity="critical")
    run.feed(a, command("ack", "", T0), resolved(a, T0 + 45 * MIN))
    run.tick(T0 + 45 * MIN + DAY)
    run.tick(T0 + 45 * MIN + 7 * DAY)
    due = [(e.details["stage"], e.at) for e in run.events if e.kind is EventKind.POSTMORTEM_DUE]
    assert due == [("initial", T0 + 45 * MIN + DAY), ("detailed", T0 + 45 * MIN + 7 * DAY)]


def test_no_postmortem_reminder_for_p3_or_once_closed_with_one() -> None:
    run = Run()
    a = alert()
    run.feed(a, resolved(a, T0 + MIN))
    assert [e for e in run.tick(T0 + 2 * DAY) if e.kind is EventKind.POSTMORTEM_DUE] == []
    run = Run()
    a = alert(severity="critical")
    run.feed(a, resolved(a, T0 + MIN))
    run.feed(command("close", run.incident_id, T0 + HOUR, postmortem_url="https://wiki/pm"))
    assert [e for e in run.tick(T0 + 9 * DAY) if e.kind is EventKind.POSTMORTEM_DUE] == []


def test_resolved_incidents_are_forgotten_after_retention() -> None:
    run = Run()
    a = alert()
    run.feed(a, resolved(a, T0 + MIN))
    run.tick(T0 + 7 * DAY)
    assert run.state.incidents
    run.tick(T0 + 9 * DAY)
    assert not run.state.incidents and not run.state.signals


def test_pagerduty_trigger_acknowledge_resolve() -> None:
    import orjson

    from models.limits import DEFAULT_LIMITS
    from models.parsers import parse_alerts

    def pd(action: str, **extra: object) -> object:
        body = {"routing_key": "R" * 32, "event_action": action, "dedup_key": "db-1", **extra}
        return parse_alerts(orjson.dumps(body), DEFAULT_LIMITS, T0 + 5 * MIN).inputs[0]

    trigger = pd(
        "trigger",
        payload={
            "summary": "DB down",
            "source": "db01",
            "severity": "critical",
            "timestamp": "2025-01-27T14:00:00Z",
            "custom_details": {"service": "db"},
        },
    )
    run = Run()
    run.feed(trigger, now=T0)
    run.feed(pd("acknowledge", client="pd"), now=T0 + 5 * MIN)
    run.feed(pd("resolve"), now=T0 + 30 * MIN)
    assert run.kinds() == ["opened", "acknowledged", "signal_resolved", "resolved"]
    assert run.incident.service == "db"
    assert run.events[1].actor == "pagerduty:pd"
