-- tocsin.incident_state: the latest state of each incident, kept as ClickHouse inserts events.
-- The incidents view reads it instead of re-aggregating every event on each query (at 1M
-- incidents / 10M events the procedure's queries took 10-14 s that way; `make bench`).
-- Every state is idempotent (argMax by seq, max, uniqExact, groupUniqArray): a re-sent event,
-- events arriving out of order and the backfill below overlapping the view's own inserts all
-- give the same incident. Each column is its own argMax so a query reads only what it uses.
-- Nullable times are kept as tuple(x): argMax skips NULLs, and a reopened incident's latest
-- event has no resolved_at, which must not fall back to the earlier one.
CREATE TABLE IF NOT EXISTS {db}.incident_state
(
    incident_id String,
    last_seq    SimpleAggregateFunction(max, UInt32),
    severity    AggregateFunction(argMax, LowCardinality(String), UInt32),
    status      AggregateFunction(argMax, LowCardinality(String), UInt32),
    service     AggregateFunction(argMax, LowCardinality(String), UInt32),
    services    AggregateFunction(argMax, Array(LowCardinality(String)), UInt32),
    title       AggregateFunction(argMax, String, UInt32),
    root_cause  AggregateFunction(argMax, LowCardinality(String), UInt32),
    runbook_url AggregateFunction(argMax, String, UInt32),
    signal_count AggregateFunction(argMax, UInt32, UInt32),
    detected_at AggregateFunction(argMax, DateTime64(3, 'UTC'), UInt32),
    acknowledged_at AggregateFunction(argMax, Tuple(Nullable(DateTime64(3, 'UTC'))), UInt32),
    resolved_at AggregateFunction(argMax, Tuple(Nullable(DateTime64(3, 'UTC'))), UInt32),
    closed_at AggregateFunction(argMax, Tuple(Nullable(DateTime64(3, 'UTC'))), UInt32),
    response_deadline AggregateFunction(argMax, Tuple(Nullable(DateTime64(3, 'UTC'))), UInt32),
    resolution_deadline AggregateFunction(argMax, Tuple(Nullable(DateTime64(3, 'UTC'))), UInt32),
    roles       AggregateFunction(groupUniqArray, Tuple(String, UInt32, String)),
    response_breaches   AggregateFunction(uniqExact, String),
    resolution_breaches AggregateFunction(uniqExact, String),
    breaches    AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
ORDER BY incident_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.incident_state_mv TO {db}.incident_state AS
SELECT
    incident_id,
    max(seq) AS last_seq,
    argMaxState(severity, seq) AS severity,
    argMaxState(status, seq) AS status,
    argMaxState(service, seq) AS service,
    argMaxState(services, seq) AS services,
    argMaxState(title, seq) AS title,
    argMaxState(root_cause, seq) AS root_cause,
    argMaxState(runbook_url, seq) AS runbook_url,
    argMaxState(signal_count, seq) AS signal_count,
    argMaxState(detected_at, seq) AS detected_at,
    argMaxState(tuple(acknowledged_at), seq) AS acknowledged_at,
    argMaxState(tuple(resolved_at), seq) AS resolved_at,
    argMaxState(tuple(closed_at), seq) AS closed_at,
    argMaxState(tuple(response_deadline), seq) AS response_deadline,
    argMaxState(tuple(resolution_deadline), seq) AS resolution_deadline,
    groupUniqArrayStateIf((details['role'], seq, details['assignee']), kind = 'role_assigned') AS roles,
    uniqExactStateIf(event_id, kind = 'sla_breached' AND details['sla'] = 'response') AS response_breaches,
    uniqExactStateIf(event_id, kind = 'sla_breached' AND details['sla'] = 'resolution') AS resolution_breaches,
    uniqExactStateIf(event_id, kind = 'sla_breached') AS breaches
FROM {db}.incident_events
GROUP BY incident_id;

-- Incidents stored before this table existed.
INSERT INTO {db}.incident_state
SELECT
    incident_id,
    max(seq) AS last_seq,
    argMaxState(severity, seq) AS severity,
    argMaxState(status, seq) AS status,
    argMaxState(service, seq) AS service,
    argMaxState(services, seq) AS services,
    argMaxState(title, seq) AS title,
    argMaxState(root_cause, seq) AS root_cause,
    argMaxState(runbook_url, seq) AS runbook_url,
    argMaxState(signal_count, seq) AS signal_count,
    argMaxState(detected_at, seq) AS detected_at,
    argMaxState(tuple(acknowledged_at), seq) AS acknowledged_at,
    argMaxState(tuple(resolved_at), seq) AS resolved_at,
    argMaxState(tuple(closed_at), seq) AS closed_at,
    argMaxState(tuple(response_deadline), seq) AS response_deadline,
    argMaxState(tuple(resolution_deadline), seq) AS resolution_deadline,
    groupUniqArrayStateIf((details['role'], seq, details['assignee']), kind = 'role_assigned') AS roles,
    uniqExactStateIf(event_id, kind = 'sla_breached' AND details['sla'] = 'response') AS response_breaches,
    uniqExactStateIf(event_id, kind = 'sla_breached' AND details['sla'] = 'resolution') AS resolution_breaches,
    uniqExactStateIf(event_id, kind = 'sla_breached') AS breaches
FROM {db}.incident_events
GROUP BY incident_id;
