"""``incident_detail``: one incident whole, from what ClickHouse holds (chDB).

An incident's life runs through the pure engine — two alerts, one re-sent twice, an ack, a
role, a note, a resolution — and its lifecycle events and signal-log rows are written as
the sinks write them; the detail must tell its severity and why, roles, SLA deadlines and
whether each was met, every signal with its repeat count, and the timeline in order.
"""

import time

import orjson
import pytest

from models.engine import step
from models.policy import load_policy
from models.state import KeyState
from models.timestamps import format_ms
from sinks.clickhouse.incident_detail import incident_detail
from sinks.clickhouse.writer import EventWriter, JSONWriter
from streams import signal_log
from streams.row_records import row_records
from streams.signal_log import Where
from tests.support.engine import HOUR, MIN, alert, command, resolved

pytestmark = pytest.mark.integration


def history(t0: int) -> tuple[list[dict], list[dict], str]:
    """Times from ``t0``: recent, since the signal log keeps rows for 30 days only."""
    policy, state, events, rows = load_policy(), KeyState(), [], []
    down, slow = alert("Down", severity="critical", starts=t0), alert("Slow", severity="warning", starts=t0)

    def feed(item, now: int) -> None:
        nonlocal state
        state, emitted, decision = step(state, item, now, policy)
        events.extend(e.to_dict() for e in emitted)
        rows.append(signal_log.record(item, decision, now, 0, Where("api", "api", 0, len(rows))))

    feed(down, t0)
    feed(slow, t0 + MIN)
    feed(down, t0 + 2 * MIN)  # re-sends: repeats of the same alert
    feed(down, t0 + 3 * MIN)
    incident_id = events[0]["incident_id"]
    feed(command("ack", incident_id, t0 + 20 * MIN), t0 + 20 * MIN)  # after P0's 15-minute target
    feed(command("assign", incident_id, t0 + 21 * MIN, role="incident_commander", assignee="bob"), t0 + 21 * MIN)
    feed(command("note", incident_id, t0 + 22 * MIN, text="rolled back"), t0 + 22 * MIN)
    feed(resolved(down, t0 + HOUR), t0 + HOUR)
    feed(resolved(slow, t0 + HOUR), t0 + HOUR)
    return events, rows, incident_id


def test_an_incident_whole(clickhouse, database: str) -> None:
    t0 = (int(time.time()) - 3 * 3600) * 1000
    events, rows, incident_id = history(t0)
    EventWriter(clickhouse, database).write_events_sync(events)
    JSONWriter(clickhouse, f"{database}.signals", "signal_id").write_sync(list(row_records(rows)))

    detail = incident_detail(clickhouse, database, incident_id)

    assert (detail["severity"], detail["status"]) == ("P0", "resolved")
    assert detail["reasons"] == [{"rule": "p0-critical", "facts": {"source_severity": "critical"}}]
    assert detail["roles"] == {"incident_commander": "bob"}
    assert detail["sla"]["response"]["met"] is False and detail["sla"]["resolution"]["met"] is True
    assert detail["sla"]["response"]["deadline"] == format_ms(t0 + 15 * MIN)
    by_title = {s["title"]: s for s in detail["signals"]}
    assert (by_title["Down on api"]["received"], by_title["Slow on api"]["received"]) == (4, 2)  # re-sends counted
    assert by_title["Down on api"]["status"] == "resolved"
    assert by_title["Down on api"]["labels"] == {"alertname": "Down", "service": "api", "severity": "critical"}
    assert [e["seq"] for e in detail["timeline"]] == sorted(e["seq"] for e in events)
    assert [e["kind"] for e in detail["timeline"]] == [e["kind"] for e in sorted(events, key=lambda e: e["seq"])]
    note = next(e for e in detail["timeline"] if e["kind"] == "note_added")
    assert note["details"] == {"text": "rolled back"} and note["actor"] == "bob"
    orjson.dumps(detail)  # answerable as JSON as it is


def test_an_unknown_incident_is_none(clickhouse, database: str) -> None:
    assert incident_detail(clickhouse, database, "no-such-incident") is None
