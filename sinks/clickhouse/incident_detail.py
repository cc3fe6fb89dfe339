"""One incident, whole: its latest state, why it has its severity, its signals and its timeline.

What ``GET /v1/incidents/{id}`` and ``tocsin show`` answer. Everything comes from what
ClickHouse already holds: the ``incidents`` view (status, severity, roles, SLA deadlines
and whether each was met), the lifecycle events (the timeline, and the severity reasons
of the latest one, and its links) and the signal log (each signal's source, labels, links,
first and last receipt, repeat count and latest status).
"""

import orjson
from clickhouse_connect.driver.client import Client

from sinks.clickhouse.queries import incident_events, iso, quote

INCIDENT_SQL = """
SELECT incident_id, severity, status, service, services, title, root_cause, runbook_url, signal_count, roles,
       detected_at, acknowledged_at, resolved_at, closed_at, response_deadline, resolution_deadline,
       response_sla_met, resolution_sla_met, seq
FROM {db}.incidents
WHERE incident_id = {incident}
"""

SIGNALS_SQL = """
SELECT s_fingerprint, any(s_source), argMax(s_title, s_received), argMax(s_service, s_received), min(s_at),
       max(s_received), count(), argMax(s_status, s_received), argMax(s_outcome, s_received),
       argMax(s_labels, s_received), argMaxIf(s_links, s_received, length(s_links) > 0)
FROM (
    SELECT DISTINCT signal_id, fingerprint AS s_fingerprint, source AS s_source, title AS s_title,
           service AS s_service, at AS s_at, received_at AS s_received, status AS s_status, outcome AS s_outcome,
           labels AS s_labels, JSONExtract(payload, 2, 'links', 'Map(String, String)') AS s_links
    FROM {db}.signals
    WHERE incident_id = {incident} AND fingerprint != ''
)
GROUP BY s_fingerprint
ORDER BY min(s_at), s_fingerprint
LIMIT {limit}
"""
SIGNAL_COLUMNS = (
    "fingerprint",
    "source",
    "title",
    "service",
    "first_at",
    "last_seen",
    "received",
    "status",
    "outcome",
    "labels",
    "links",
)

TIMES = (
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "response_deadline",
    "resolution_deadline",
)


def incident_detail(client: Client, database: str, incident_id: str, signals: int = 1000) -> dict | None:
    """The incident ``incident_id`` whole, or ``None`` if ClickHouse has no event of it."""
    found = client.query(INCIDENT_SQL.format(db=database, incident=quote(incident_id)))
    if not found.result_rows:
        return None
    incident = dict(zip(found.column_names, found.result_rows[0], strict=True))
    for name in TIMES:
        incident[name] = iso(incident[name])
    incident["services"] = list(incident["services"])
    incident["roles"] = {role: assignee for role, assignee in incident["roles"]}
    incident["sla"] = {
        target: {"deadline": incident.pop(f"{target}_deadline"), "met": bool(incident.pop(f"{target}_sla_met"))}
        for target in ("response", "resolution")
    }
    timeline = incident_events(client, database, incident_id)
    incident["reasons"] = timeline[-1]["reasons"] if timeline else []
    incident["links"] = dict(timeline[-1]["links"]) if timeline else {}
    incident["signals"] = _signals(client, database, incident_id, signals)
    incident["timeline"] = [_entry(event) for event in timeline]
    incident["changes"] = [_change(event) for event in timeline if event["kind"] == "change_noted"]
    return incident


def _signals(client: Client, database: str, incident_id: str, limit: int) -> list[dict]:
    result = client.query(SIGNALS_SQL.format(db=database, incident=quote(incident_id), limit=int(limit)))
    rows = [dict(zip(SIGNAL_COLUMNS, row, strict=True)) for row in result.result_rows]
    for row in rows:
        row["first_at"], row["last_seen"] = iso(row["first_at"]), iso(row["last_seen"])
    return rows


def _entry(event: dict) -> dict:
    """A timeline line: what happened, when, by whom, and its kind-specific details."""
    entry = {name: event[name] for name in ("seq", "at", "kind", "severity", "status", "actor", "fingerprint")}
    entry["details"] = dict(event["details"]) if event["details"] else {}
    return entry


def _change(event: dict) -> dict:
    """A change noted on the incident: when, to what, what, by whom or what, and its link."""
    details = dict(event["details"] or {})
    return {"at": event["at"], **{name: details.get(name, "") for name in ("service", "summary", "source", "link")}}


def as_json(detail: dict) -> bytes:
    return orjson.dumps(detail, option=orjson.OPT_INDENT_2)
