"""``make bench``: the procedure's metric queries and ``tocsin metrics`` at 1M incidents / 10M events.

chDB (the embedded ClickHouse) holds a month of history made by ClickHouse itself from
``numbers()``: 1,000,000 incidents of ten lifecycle events each (opened, nine more), every
severity, three in four acknowledged, nine in ten resolved, a tenth still open. The
procedure's two queries run verbatim against the ``incidents`` view, and the CLI's
per-severity metrics against the same; each is timed (best of three) and its answer
checked against what the history holds by construction.

Prints one JSON line.
"""

import tempfile
import time
from pathlib import Path

import orjson

from models.policy import load_policy
from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.migrate import migrate
from sinks.clickhouse.queries import incident_metrics
from tests.integration.test_clickhouse_metrics import RESOLUTION_TIME_SQL, RESPONSE_TIME_SQL

INCIDENTS = 1_000_000
EVENTS_PER_INCIDENT = 10
DATABASE = "bench"

# Incident i: severity P(i % 4); detected within the last 29 days; acknowledged 5 + i % 30
# minutes later unless i % 4 == 3; resolved 60 + i % 240 minutes later unless i % 10 == 9.
# Event seq 1 opens it; seq 2 acknowledges it (if it is); the last resolves it (if it is).
HISTORY_SQL = """
INSERT INTO {db}.incident_events
    (event_id, incident_id, seq, kind, at, severity, status, service, services, title, reasons, fingerprints,
     fingerprint, actor, runbook_url, root_cause, detected_at, acknowledged_at, resolved_at, closed_at, details,
     schema_version, response_deadline, resolution_deadline)
SELECT
    concat('e', toString(n)) AS event_id,
    concat('i', toString(i)) AS incident_id,
    toUInt32(seq) AS seq,
    multiIf(seq = 1, 'opened', seq = 2 AND acked, 'acknowledged', seq = {per} AND fixed, 'resolved', 'signal_added'),
    detected + toIntervalMinute(seq),
    concat('P', toString(i % 4)),
    multiIf(seq = {per} AND fixed, 'resolved', seq >= 2 AND acked, 'acknowledged', 'detected'),
    concat('svc-', toString(i % 200)),
    [concat('svc-', toString(i % 200))],
    'bench incident', '[]', [], '', '', '', '',
    detected,
    if(acked AND seq >= 2, detected + toIntervalMinute(5 + i % 30), NULL),
    if(fixed AND seq = {per}, detected + toIntervalMinute(60 + i % 240), NULL),
    NULL, map(), 1, NULL, NULL
FROM
(
    SELECT
        number AS n,
        intDiv(number, {per}) AS i,
        number % {per} + 1 AS seq,
        toDateTime64(now64(3) - toIntervalSecond(intDiv(number, {per}) % (29 * 86400)), 3, 'UTC') AS detected,
        intDiv(number, {per}) % 4 != 3 AS acked,
        intDiv(number, {per}) % 10 != 9 AS fixed
    FROM numbers({events})
)
"""


def best_of(runs: int, function) -> tuple[float, object]:
    times, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = function()
        times.append(time.perf_counter() - started)
    return min(times), answer


def verbatim(client, sql: str) -> float:
    client.command(f"USE {DATABASE}")
    try:
        return client.query(sql).result_rows[0][0]
    finally:
        client.command("USE default")


def expected_minutes() -> tuple[float, float]:
    """Average response (P0/P1, acknowledged) and resolution (resolved) minutes, by construction."""
    response = [5 + i % 30 for i in range(INCIDENTS) if i % 4 in (0, 1)]
    resolution = [60 + i % 240 for i in range(INCIDENTS) if i % 10 != 9]
    return sum(response) / len(response), sum(resolution) / len(resolution)


def main() -> None:
    client = open_client(embedded_dsn(Path(tempfile.mkdtemp(prefix="tocsin-bench-analytics-"))))
    try:
        migrate(client, DATABASE)
        events = INCIDENTS * EVENTS_PER_INCIDENT
        started = time.perf_counter()
        client.command(HISTORY_SQL.format(db=DATABASE, per=EVENTS_PER_INCIDENT, events=events))
        insert_s = time.perf_counter() - started
        response_s, response = best_of(3, lambda: verbatim(client, RESPONSE_TIME_SQL))
        resolution_s, resolution = best_of(3, lambda: verbatim(client, RESOLUTION_TIME_SQL))
        metrics_s, metrics = best_of(1, lambda: incident_metrics(client, DATABASE, load_policy().sla))
        want_response, want_resolution = expected_minutes()
        assert abs(response - want_response) < 0.01, (response, want_response)
        assert abs(resolution - want_resolution) < 0.01, (resolution, want_resolution)
        assert sum(m["incidents"] for m in metrics) == INCIDENTS, metrics
    finally:
        client.close()
    print(
        orjson.dumps(
            {
                "bench": "analytics",
                "incidents": INCIDENTS,
                "events": events,
                "history_insert_s": round(insert_s, 1),
                "seed_response_time_query_s": round(response_s, 2),
                "seed_resolution_time_query_s": round(resolution_s, 2),
                "tocsin_metrics_s": round(metrics_s, 2),
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
