-- Pre-aggregated incident metrics per day (of detection), severity and service, for dashboards.
-- Sets instead of sums keep them exact when events arrive twice or out of order: an incident
-- counts once however often its `opened` event is stored, and response/resolution durations
-- are kept per incident. Severity is the one each event carried (an incident upgraded after
-- opening counts under its opening severity, and its durations under their own).
CREATE TABLE IF NOT EXISTS {db}.incident_daily
(
    day         Date,
    severity    LowCardinality(String),
    service     LowCardinality(String),
    incidents   AggregateFunction(uniqExact, String),
    responses   AggregateFunction(groupUniqArray, Tuple(String, Int64)),
    resolutions AggregateFunction(groupUniqArray, Tuple(String, Int64))
)
ENGINE = AggregatingMergeTree
ORDER BY (day, severity, service);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.incident_daily_mv TO {db}.incident_daily AS
SELECT
    toDate(detected_at) AS day,
    severity,
    service,
    uniqExactStateIf(incident_id, kind = 'opened') AS incidents,
    groupUniqArrayStateIf(
        (incident_id, dateDiff('millisecond', detected_at, assumeNotNull(acknowledged_at))), kind = 'acknowledged'
    ) AS responses,
    groupUniqArrayStateIf(
        (incident_id, dateDiff('millisecond', detected_at, assumeNotNull(resolved_at))), kind = 'resolved'
    ) AS resolutions
FROM {db}.incident_events
GROUP BY day, severity, service;
