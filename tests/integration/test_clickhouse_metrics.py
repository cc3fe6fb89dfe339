"""ClickHouse analytics on chDB: the seed's metric queries run verbatim against tocsin's schema."""

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.engine import step
from models.policy import load_policy
from models.state import KeyState
from sinks.clickhouse.writer import EventWriter, event_row
from tests.support.engine import MIN, alert, command, resolved

pytestmark = pytest.mark.integration

# Verbatim from the incident-management procedure ("Incident Metrics").
RESPONSE_TIME_SQL = """
SELECT 
    AVG(EXTRACT(EPOCH FROM (response_time - detection_time))/60) as avg_response_minutes
FROM incidents
WHERE severity IN ('P0', 'P1')
  AND created_at > NOW() - INTERVAL '30 days';
"""
RESOLUTION_TIME_SQL = """
SELECT 
    AVG(EXTRACT(EPOCH FROM (resolved_time - detection_time))/60) as avg_resolution_minutes
FROM incidents
WHERE resolved_time IS NOT NULL
  AND created_at > NOW() - INTERVAL '30 days';
"""


def verbatim(clickhouse, database: str, sql: str) -> float | None:
    """Run ``sql`` as written: unqualified ``incidents`` resolves in the session's database."""
    clickhouse.command(f"USE {database}")
    try:
        return clickhouse.query(sql).result_rows[0][0]
    finally:
        clickhouse.command("USE default")


def lifecycle(now_ms: int) -> list[dict]:
    """Three incidents: P0 acked after 5 min, resolved after 45; P1 acked after 30, resolved after 120;
    P3 never acked, resolved after 10."""
    policy, events = load_policy(), []
    scenarios = [("api", "critical", 5, 45), ("db", "error", 30, 120), ("docs", "", None, 10)]
    for offset, (service, severity, ack, fix) in enumerate(scenarios):
        start = now_ms - 2 * 86_400_000 + offset * MIN
        state = KeyState()
        fired = alert(service=service, starts=start, **({"severity": severity} if severity else {}))
        state, emitted, _ = step(state, fired, start, policy)
        events += emitted
        incident = emitted[0].incident_id
        if ack is not None:
            state, emitted, _ = step(state, command("ack", incident, start + ack * MIN), start, policy)
            events += emitted
        state, emitted, _ = step(state, resolved(fired, start + fix * MIN), start, policy)
        events += emitted
    return [e.to_dict() for e in events]


def test_seed_metric_queries_run_verbatim(clickhouse, database: str) -> None:
    import time

    events = lifecycle(int(time.time() * 1000) // 60_000 * 60_000)
    writer = EventWriter(clickhouse, database)
    rows = [orjson.dumps([event_row(e)]) for e in events]  # one record per event
    writer.write_sync(rows)
    writer.write_sync(rows)  # a retried batch: deduplicated by its token
    writer.write_sync(list(reversed(rows[:3])))  # the same events again, in another batch and order

    def scalar(sql: str) -> float:
        return verbatim(clickhouse, database, sql)

    assert scalar(RESPONSE_TIME_SQL) == pytest.approx((5 + 30) / 2)
    assert scalar(RESOLUTION_TIME_SQL) == pytest.approx((45 + 120 + 10) / 3)
    deadlines = clickhouse.query(
        f"SELECT dateDiff('minute', detected_at, response_deadline), dateDiff('minute', detected_at, "
        f"resolution_deadline) FROM {database}.incidents ORDER BY severity"
    ).result_rows
    assert deadlines == [(15, 240), (60, 1440), (1440, 10080)]  # the seed's targets, and P3's
    incidents = clickhouse.query(
        f"SELECT severity, status, signal_count, response_sla_met, resolution_sla_met "
        f"FROM {database}.incidents ORDER BY severity"
    ).result_rows
    assert incidents == [
        ("P0", "resolved", 1, True, True),
        ("P1", "resolved", 1, True, True),
        ("P3", "resolved", 1, True, True),
    ]


def test_metrics_equal_an_independent_computation(clickhouse, database: str) -> None:
    """1,000+ generated incidents, written twice and in shuffled batches: metrics match Python's."""
    import random
    import statistics
    import time

    from sinks.clickhouse.queries import incident_metrics

    policy, rnd = load_policy(), random.Random(5)
    now = int(time.time() * 1000) // 1000 * 1000
    events, truth = [], []
    for i in range(1200):
        severity = rnd.choice(["critical", "error", "warning", ""])
        start = now - rnd.randrange(1, 25 * 86_400) * 1000
        fired = alert(f"A{i}", service=f"svc-{i % 40}", starts=start, **({"severity": severity} if severity else {}))
        state, emitted, _ = step(KeyState(), fired, start, policy)
        incident, sev, batch = emitted[0].incident_id, emitted[0].severity, list(emitted)
        ack = rnd.choice([None, rnd.randrange(1, 7200)])
        if ack is not None:
            state, emitted, _ = step(state, command("ack", incident, start + ack * 1000), start, policy)
            batch += emitted
        fix = rnd.choice([None, (ack or 0) + rnd.randrange(1, 86_400)])
        if fix is not None:
            state, emitted, _ = step(state, resolved(fired, start + fix * 1000), start, policy)
            batch += emitted
        events += [e.to_dict() for e in batch if str(e.kind) != "sla_breached"]
        truth.append((sev, ack, fix))
    rows = [orjson.dumps([event_row(e)]) for e in events]  # one record per event
    writer = EventWriter(clickhouse, database)
    for chunk in range(0, len(rows), 500):
        writer.write_sync(rows[chunk : chunk + 500])
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    for chunk in range(0, len(shuffled), 700):  # every event again, in other batches and order
        writer.write_sync(shuffled[chunk : chunk + 700])

    measured = {m["severity"]: m for m in incident_metrics(clickhouse, database, policy.sla, since="30d")}
    for severity, target in policy.sla.items():
        mine = [(a, f) for s, a, f in truth if s == severity]
        acks = [a / 60 for a, _ in mine if a is not None]
        fixes = [f / 60 for _, f in mine if f is not None]
        got = measured[severity]
        assert got["incidents"] == len(mine)
        assert got["mtta_minutes"]["avg"] == pytest.approx(statistics.fmean(acks), abs=1 / 60)
        assert got["mttr_minutes"]["avg"] == pytest.approx(statistics.fmean(fixes), abs=1 / 60)
        met = sum(1 for a, _ in mine if a is not None and a * 1000 <= target.response_ms)
        assert got["response_sla_met_pct"] == pytest.approx(round(100 * met / len(mine), 1))
        met = sum(1 for _, f in mine if f is not None and f * 1000 <= target.resolution_ms)
        assert got["resolution_sla_met_pct"] == pytest.approx(round(100 * met / len(mine), 1))


def test_postmortem_reproduces_the_seed_example(clickhouse, database: str) -> None:
    """The procedure's example: API outage, connection pool exhausted, 14:00 → 14:45."""
    from models.postmortem import render
    from models.timestamps import parse_ms
    from sinks.clickhouse.queries import incident_events

    policy = load_policy("resolution: {auto: manual}")
    at = {hhmm: parse_ms(f"2025-01-27T{hhmm}:00Z") for hhmm in ("14:00", "14:05", "14:10", "14:15", "14:30", "14:45")}
    down = alert("SystemDown", service="apex-api", starts=at["14:00"], severity="critical")
    state, events, _ = step(KeyState(), down, at["14:00"], policy)
    incident = events[0].incident_id
    for item in (
        command("ack", incident, at["14:05"], actor="oncall"),
        command(
            "note",
            incident,
            at["14:10"],
            actor="oncall",
            text="Root cause identified: database connection pool exhausted",
        ),
        command("note", incident, at["14:15"], actor="oncall", text="Rollback to previous version"),
        resolved(down, at["14:30"]),
        command("resolve", incident, at["14:45"], actor="oncall", text="Full resolution verified"),
    ):
        state, emitted, _ = step(state, item, at["14:45"], policy)
        events += emitted
    EventWriter(clickhouse, database).write_events_sync([e.to_dict() for e in events])

    markdown = render(incident_events(clickhouse, database, incident))
    timeline = markdown[markdown.index("**Key events**") : markdown.index("## 3.")]
    assert [line for line in timeline.splitlines() if line.startswith("- ")] == [
        "- 14:00: Alert received: SystemDown on apex-api",
        "- 14:05: Acknowledged by oncall",
        "- 14:10: Root cause identified: database connection pool exhausted (oncall)",
        "- 14:15: Rollback to previous version (oncall)",
        "- 14:30: Signal " + down.fingerprint + " recovered",
        "- 14:45: Resolved by oncall",
    ]
    assert "**Severity**: P0" in markdown and "**Duration**: 45 min" in markdown
    assert "- **Response time**: 14:05 (5 min after detection)" in markdown
    assert "- **Direct cause**: Root cause identified: database connection pool exhausted" in markdown
    for section in (
        "1. Executive Summary",
        "2. Timeline",
        "3. Root Cause Analysis",
        "4. Impact Assessment",
        "5. Action Items",
        "6. Lessons Learned",
    ):
        assert f"## {section}" in markdown


def test_daily_rollup_is_exact_with_duplicates_and_any_order(clickhouse, database: str) -> None:
    import random
    import time

    from sinks.clickhouse.queries import daily_metrics

    events = lifecycle(int(time.time() * 1000) // 60_000 * 60_000)
    rows = [orjson.dumps([event_row(e)]) for e in events]  # one record per event
    writer = EventWriter(clickhouse, database)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    for chunk in (rows[:4], rows[4:], shuffled[:5], shuffled[5:]):  # everything twice, in other batches
        writer.write_sync(chunk)
    by_severity = {m["severity"]: m for m in daily_metrics(clickhouse, database, load_policy().sla)}
    assert {s: m["incidents"] for s, m in by_severity.items()} == {"P0": 1, "P1": 1, "P3": 1}
    p0, p1, p3 = by_severity["P0"], by_severity["P1"], by_severity["P3"]
    assert p0["mtta_minutes"] == {"avg": 5.0, "p50": 5.0, "p90": 5.0, "p99": 5.0}
    assert (p0["mttr_minutes"]["avg"], p1["mtta_minutes"]["p90"], p1["mttr_minutes"]["p99"]) == (45.0, 30.0, 120.0)
    assert p3["mtta_minutes"]["avg"] is None
    assert (by_severity["P0"]["response_sla_met"], by_severity["P1"]["resolution_sla_met"]) == (1, 1)


def test_a_reopened_incident_is_open_again_in_the_view(clickhouse, database: str) -> None:
    """Its latest event has no resolved_at; the view must not fall back to the first resolution."""
    import time

    from models.timestamps import format_ms
    from sinks.clickhouse.queries import incident_metrics, list_incidents

    now = int(time.time() * 1000) // 60_000 * 60_000
    policy, events = load_policy(), []
    fired = alert(service="search", starts=now - 30 * MIN, severity="warning")
    state, emitted, _ = step(KeyState(), fired, now - 30 * MIN, policy)
    events += emitted
    state, emitted, _ = step(state, resolved(fired, now - 20 * MIN), now - 20 * MIN, policy)
    events += emitted
    again = alert(service="search", starts=now - 10 * MIN, severity="warning")
    state, emitted, _ = step(state, again, now - 10 * MIN, policy)
    events += emitted
    assert [e.kind for e in events][-1] == "reopened"
    EventWriter(clickhouse, database).write_events_sync([e.to_dict() for e in events])

    (row,) = list_incidents(clickhouse, database)
    assert (row["status"], row["resolved_at"]) == ("detected", None)
    p2 = next(m for m in incident_metrics(clickhouse, database, policy.sla) if m["severity"] == "P2")
    assert p2["incidents"] == 1 and p2["mttr_minutes"]["avg"] is None  # not resolved: no resolution time

    # resolved again: the view and the daily rollup count its final resolution, once
    from sinks.clickhouse.queries import daily_metrics

    state, emitted, _ = step(state, resolved(again, now - 5 * MIN), now - 5 * MIN, policy)
    assert [e.kind for e in emitted][-1] == "resolved"
    EventWriter(clickhouse, database).write_events_sync([e.to_dict() for e in emitted])
    (row,) = list_incidents(clickhouse, database)
    assert row["status"] == "resolved" and row["resolved_at"].endswith(format_ms(now - 5 * MIN)[11:])
    (daily,) = [m for m in daily_metrics(clickhouse, database, policy.sla) if m["severity"] == "P2"]
    assert daily["mttr_minutes"]["avg"] == 25.0 and daily["resolution_sla_met"] == 1


def mixed_history(now_ms: int) -> tuple[list[dict], list]:
    """Histories of a normal day: open and unacknowledged, acknowledged and never resolved,
    resolved, reopened and resolved again, upgraded; returns events and the final incidents."""
    policy, events, finals = load_policy(), [], []
    start = now_ms - 3 * 3_600_000

    def run(steps: list) -> None:
        nonlocal events
        state = KeyState()
        for make in steps:
            item = make(state)
            state, emitted, _ = step(state, item, start, policy)
            events += emitted
        finals.extend(state.incidents.values())

    def ack(minutes: int):
        return lambda s: command("ack", next(iter(s.incidents)), start + minutes * MIN)

    p0 = alert(service="pay", starts=start, severity="critical")
    run([lambda s: p0])  # P0, never acknowledged
    p1 = alert(service="db", starts=start + MIN, severity="error")
    run([lambda s: p1, ack(20)])  # P1, acknowledged, never resolved
    p0b = alert(service="api", starts=start + 2 * MIN, severity="critical")
    run([lambda s: p0b, ack(9), lambda s: resolved(p0b, start + 30 * MIN)])
    flap = alert(service="web", starts=start + 3 * MIN, severity="critical")
    again = alert(service="web", starts=start + 40 * MIN, severity="critical")
    run(
        [
            lambda s: flap,
            ack(7),
            lambda s: resolved(flap, start + 20 * MIN),
            lambda s: again,  # within the reopen window: the incident reopens
            lambda s: resolved(again, start + 50 * MIN),
        ]
    )
    warn = alert(service="cdn", starts=start + 4 * MIN, severity="warning")
    worse = alert("SystemDown", service="cdn", starts=start + 10 * MIN, severity="critical")
    run([lambda s: warn, lambda s: worse, ack(12)])  # upgraded to P0, acknowledged, open
    return [e.to_dict() for e in events], finals


def test_seed_queries_on_a_normal_day(clickhouse, database: str) -> None:
    """Unacknowledged P0s are everyday state: the procedure's queries must still run, and be right."""
    import time

    events, finals = mixed_history(int(time.time() * 1000) // 60_000 * 60_000)
    EventWriter(clickhouse, database).write_events_sync(events)
    response, resolution = (verbatim(clickhouse, database, sql) for sql in (RESPONSE_TIME_SQL, RESOLUTION_TIME_SQL))
    acked = [i for i in finals if i.severity in ("P0", "P1") and i.acknowledged_at]
    done = [i for i in finals if i.resolved_at]
    assert {i.status for i in finals} >= {"detected", "acknowledged", "resolved"}
    assert any(i.reopened for i in finals) and any(i.severity == "P0" and i.service == "cdn" for i in finals)
    assert response == pytest.approx(sum((i.acknowledged_at - i.detected_at) / MIN for i in acked) / len(acked))
    assert resolution == pytest.approx(sum((i.resolved_at - i.detected_at) / MIN for i in done) / len(done))


@st.composite
def lifecycles(draw: st.DrawFn) -> list[tuple]:
    """Per incident: its source severity and a random sequence of what people and monitors do."""
    actions = st.sampled_from(["ack", "resolve", "reopen", "close", "severity", "signal_resolves", "note"])
    return [
        (
            draw(st.sampled_from(["critical", "error", "warning", ""])),
            draw(
                st.lists(st.tuples(actions, st.integers(1, 600), st.sampled_from(["P0", "P1", "P2", "P3"])), max_size=6)
            ),
        )
        for _ in range(draw(st.integers(1, 6)))
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=lifecycles())
def test_seed_queries_equal_python_on_random_lifecycles(clickhouse, database: str, histories: list[tuple]) -> None:
    """Open, unacknowledged, acknowledged-never-resolved, reopened, re-resolved, upgraded and
    downgraded incidents of every severity: the procedure's queries, verbatim, equal Python's."""
    import time

    policy = load_policy()
    now = int(time.time() * 1000) // 60_000 * 60_000
    events, finals = [], []
    for n, (source_severity, steps) in enumerate(histories):
        start = now - 86_400_000 + n * MIN
        labels = {"severity": source_severity} if source_severity else {}
        fired = alert(f"R{n}", service=f"svc-{n}", starts=start, **labels)
        state, emitted, _ = step(KeyState(), fired, start, policy)
        events += emitted
        incident = emitted[0].incident_id
        for action, minutes, severity in steps:
            at = start + minutes * MIN
            if action == "signal_resolves":
                item = resolved(fired, at)
            else:
                item = command(action, incident, at, text="t", severity=severity if action == "severity" else "")
            state, emitted, _ = step(state, item, at, policy)
            events += emitted
        finals.append(state.incidents[incident])
    for table in ("incident_events", "incident_state"):  # the state is kept from the events as they arrive
        clickhouse.command(f"TRUNCATE TABLE {database}.{table}")
    EventWriter(clickhouse, database).write_events_sync([e.to_dict() for e in events])
    response, resolution = (verbatim(clickhouse, database, sql) for sql in (RESPONSE_TIME_SQL, RESOLUTION_TIME_SQL))
    acked = [
        (i.acknowledged_at - i.detected_at) / MIN for i in finals if i.severity in ("P0", "P1") and i.acknowledged_at
    ]
    done = [(i.resolved_at - i.detected_at) / MIN for i in finals if i.resolved_at]
    assert response == (pytest.approx(sum(acked) / len(acked)) if acked else None)
    assert resolution == (pytest.approx(sum(done) / len(done)) if done else None)
