"""The incidents view reads incident_state, which ClickHouse keeps from events as they arrive.

Its states are idempotent, so re-sent and out-of-order events, and incidents stored before the
table existed (the migration backfills them), all give the incident the engine holds.
"""

import time

from sinks.clickhouse.migrate import migrate
from sinks.clickhouse.queries import list_incidents
from sinks.clickhouse.writer import EventWriter
from tests.integration.test_clickhouse_metrics import mixed_history
from tests.support.engine import MIN, Run, alert, command


def now_ms() -> int:
    return int(time.time() * 1000) // MIN * MIN


def view(clickhouse, database: str) -> list[tuple]:
    return clickhouse.query(
        f"SELECT incident_id, severity, status, detected_at, acknowledged_at, resolved_at, seq, signal_count "
        f"FROM {database}.incidents ORDER BY incident_id"
    ).result_rows


def test_resent_and_reordered_events_give_the_engine_s_incidents(clickhouse, database: str) -> None:
    events, finals = mixed_history(now_ms())
    writer = EventWriter(clickhouse, database)
    for batch in (events[::-1], events[: len(events) // 2], events):  # reversed, then part again, then all
        writer.write_events_sync(batch)
    rows = {r["incident_id"]: r for r in list_incidents(clickhouse, database)}
    assert len(rows) == len(finals)
    for incident in finals:
        row = rows[incident.incident_id]
        assert (row["severity"], row["status"]) == (incident.severity, incident.status.value)
        assert (row["acknowledged_at"] is None) == (not incident.acknowledged_at)
        assert (row["resolved_at"] is None) == (not incident.resolved_at)


def test_incidents_stored_before_the_state_table_are_backfilled(clickhouse, database: str) -> None:
    events, _ = mixed_history(now_ms())
    EventWriter(clickhouse, database).write_events_sync(events)
    before = view(clickhouse, database)
    for statement in ("DROP VIEW {db}.incident_state_mv", "DROP TABLE {db}.incident_state"):
        clickhouse.command(statement.format(db=database))
    clickhouse.command(f"DELETE FROM {database}.schema_migrations WHERE name = '006_incident_state.sql'")
    assert migrate(clickhouse, database) == ["006_incident_state.sql"]
    assert view(clickhouse, database) == before and len(before) == 5


def test_roles_show_each_role_s_latest_assignee(clickhouse, database: str) -> None:
    start = now_ms() - 60 * MIN
    run = Run()
    (opened,) = run.feed(alert(service="pay", starts=start, severity="critical"), now=start)
    incident = opened.incident_id
    assignments = [("communications", "zoe"), ("incident_commander", "carol"), ("communications", "al")]
    for minute, (role, who) in enumerate(assignments, 1):
        run.feed(command("assign", incident, start + minute * MIN, role=role, assignee=who), now=start + minute * MIN)
    EventWriter(clickhouse, database).write_events_sync([e.to_dict() for e in run.events])
    sql = f"SELECT roles FROM {database}.incidents WHERE incident_id = '{incident}'"
    (roles,) = clickhouse.query(sql).result_rows[0]
    assert [tuple(r) for r in roles] == [("communications", "al"), ("incident_commander", "carol")]
