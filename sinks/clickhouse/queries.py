"""Read queries over tocsin's ClickHouse schema, shared by the HTTP API and the CLI."""

from datetime import datetime

import orjson
from clickhouse_connect.driver.client import Client

from models.durations import parse_duration
from models.policy import SlaTarget

INCIDENTS_SQL = """
SELECT incident_id, severity, status, service, title, seq, detected_at, acknowledged_at, resolved_at, closed_at
FROM {db}.incidents
WHERE ({open_only} = 0 OR status NOT IN ('resolved', 'closed'))
  AND ({severity} = '' OR severity = {severity})
ORDER BY detected_at DESC
LIMIT {limit}
"""

METRICS_SQL = """
SELECT
    severity,
    count()                                                                      AS incidents,
    avgIf(dateDiff('millisecond', detected_at, acknowledged_at), acknowledged_at IS NOT NULL) / 60000 AS mtta_avg,
    quantilesExactIf(0.5, 0.9)(dateDiff('millisecond', detected_at, acknowledged_at),
                               acknowledged_at IS NOT NULL)                      AS mtta_q,
    avgIf(dateDiff('millisecond', detected_at, resolved_at), resolved_at IS NOT NULL) / 60000 AS mttr_avg,
    quantilesExactIf(0.5, 0.9)(dateDiff('millisecond', detected_at, resolved_at),
                               resolved_at IS NOT NULL)                          AS mttr_q,
    countIf(acknowledged_at IS NOT NULL AND dateDiff('millisecond', detected_at, acknowledged_at)
            <= transform(severity, {severities}, {response_ms}, 0))              AS response_met,
    countIf(resolved_at IS NOT NULL AND dateDiff('millisecond', detected_at, resolved_at)
            <= transform(severity, {severities}, {resolution_ms}, 0))            AS resolution_met,
    countIf(acknowledged_at IS NOT NULL)                                         AS acknowledged,
    countIf(resolved_at IS NOT NULL)                                             AS resolved
FROM {db}.incidents
WHERE has({severities}, severity) AND detected_at > now64(3) - toIntervalMillisecond({since_ms})
  AND ({service} = '' OR has(services, {service}))
GROUP BY severity
ORDER BY severity
"""


def iso(moment: datetime | None) -> str | None:
    """A ClickHouse DateTime64 as RFC 3339 with milliseconds (None stays None)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if moment else None


def quote(value: str) -> str:
    """A string as a ClickHouse SQL literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def list_incidents(
    client: Client, database: str, *, open_only: bool = False, severity: str = "", limit: int = 100
) -> list[dict]:
    """Latest view of each incident, newest first."""
    sql = INCIDENTS_SQL.format(db=database, open_only=int(open_only), severity=quote(severity), limit=int(limit))
    result = client.query(sql)
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    for row in rows:
        for name in ("detected_at", "acknowledged_at", "resolved_at", "closed_at"):
            row[name] = iso(row[name])
    return rows


def incident_metrics(
    client: Client, database: str, targets: dict[str, SlaTarget], since: str = "30d", service: str = ""
) -> list[dict]:
    """Per severity: count, MTTA and MTTR (minutes: avg, p50, p90), SLA met % against ``targets``.

    One query for every severity: the view merges each incident's state once.
    """
    severities = sorted(targets)
    sql = METRICS_SQL.format(
        db=database,
        severities=_array([quote(s) for s in severities]),
        response_ms=_array([str(int(targets[s].response_ms)) for s in severities]),
        resolution_ms=_array([str(int(targets[s].resolution_ms)) for s in severities]),
        since_ms=parse_duration(since),
        service=quote(service),
    )
    out = []
    for row in client.query(sql).result_rows:
        severity, count, mtta, mtta_q, mttr, mttr_q, response_met, resolution_met, acknowledged, resolved = row
        out.append(
            {
                "severity": severity,
                "incidents": count,
                "mtta_minutes": _summary(mtta, mtta_q, acknowledged),
                "mttr_minutes": _summary(mttr, mttr_q, resolved),
                "response_sla_met_pct": round(100 * response_met / count, 1),
                "resolution_sla_met_pct": round(100 * resolution_met / count, 1),
            }
        )
    return out


def _array(literals: list[str]) -> str:
    return "[" + ", ".join(literals) + "]"


def _summary(average: float | None, quantiles: list, observed: int) -> dict:
    """avg/p50/p90 in minutes; all None when nothing was observed (no ack, no resolution)."""
    if not observed:
        return {"avg": None, "p50": None, "p90": None}
    return {"avg": _round(average), "p50": _minutes(quantiles, 0), "p90": _minutes(quantiles, 1)}


def _round(value: float | None) -> float | None:
    return None if value is None or value != value else round(value, 2)


def _minutes(quantiles: list, index: int) -> float | None:
    return round(quantiles[index] / 60000, 2) if quantiles and quantiles[index] == quantiles[index] else None


EVENTS_SQL = """
SELECT DISTINCT event_id, incident_id, seq, kind, at, severity, status, service, services, title, reasons,
       fingerprints, fingerprint, actor, runbook_url, root_cause, detected_at, acknowledged_at, resolved_at,
       closed_at, details, links
FROM {db}.incident_events
WHERE incident_id = {incident}
ORDER BY seq
"""


def incident_events(client: Client, database: str, incident_id: str) -> list[dict]:
    """An incident's lifecycle events, shaped as published on Kafka (docs/events.md)."""
    result = client.query(EVENTS_SQL.format(db=database, incident=quote(incident_id)))
    events = []
    for row in result.result_rows:
        event = dict(zip(result.column_names, row, strict=True))
        for name in ("at", "detected_at", "acknowledged_at", "resolved_at", "closed_at"):
            event[name] = iso(event[name])
        event["reasons"] = orjson.loads(event["reasons"])
        event["services"], event["fingerprints"] = list(event["services"]), list(event["fingerprints"])
        events.append(event)
    return events


DAILY_SQL = """
SELECT
    day,
    severity,
    uniqExactMerge(incidents)                                      AS incidents,
    groupUniqArrayMerge(responses)                                 AS responses,
    groupUniqArrayMerge(resolutions)                               AS resolutions
FROM {db}.incident_daily
WHERE day >= today() - {days} AND ({service} = '' OR service = {service})
GROUP BY day, severity
ORDER BY day, severity
"""


def daily_metrics(
    client: Client, database: str, targets: dict[str, SlaTarget], days: int = 30, service: str = ""
) -> list[dict]:
    """Per day and severity, from the pre-aggregated ``incident_daily`` table."""
    result = client.query(DAILY_SQL.format(db=database, days=int(days), service=quote(service)))
    out = []
    for day, severity, count, acknowledged, resolved in result.result_rows:
        target = targets.get(severity)
        responses, resolutions = _final_per_incident(acknowledged), _final_per_incident(resolved)
        out.append(
            {
                "day": day.isoformat(),
                "severity": severity,
                "incidents": count,
                "mtta_minutes": _distribution(responses),
                "mttr_minutes": _distribution(resolutions),
                "response_sla_met": sum(1 for ms in responses if target and ms <= target.response_ms),
                "resolution_sla_met": sum(1 for ms in resolutions if target and ms <= target.resolution_ms),
            }
        )
    return out


def _final_per_incident(durations: list[tuple[str, int]]) -> list[int]:
    """One duration per incident: the last (longest) — a reopened incident resolves again later."""
    final: dict[str, int] = {}
    for incident_id, ms in durations:
        final[incident_id] = max(ms, final.get(incident_id, ms))
    return list(final.values())


def _distribution(values: list[int]) -> dict:
    """avg, p50, p90, p99 in minutes (nearest rank), all None when nothing was observed."""
    if not values:
        return {"avg": None, "p50": None, "p90": None, "p99": None}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * q // 1) - 1))] / 60000, 2)

    return {"avg": round(sum(values) / len(values) / 60000, 2), "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99)}
