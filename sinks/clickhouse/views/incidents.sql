-- tocsin.incidents: the latest state of each incident, exact at query time.
-- A view is not versioned data: `tocsin migrate` replaces it with this definition every time.
-- It merges the states incident_state keeps (schema/006): every lifecycle event carries its
-- incident's current state, so each column is its value at the highest seq. Exposes the
-- columns the incident-management metric queries use (severity, detection_time,
-- response_time, resolved_time, created_at), the response roles (each role's latest
-- assignee), the signal count (every signal, also past the 100 fingerprints an event lists),
-- the SLA deadlines and whether each target was met.
-- response_time and resolved_time are NULL until they happen, yet ClickHouse evaluates an
-- expression on NULL rows too, with the value underneath the NULL: 1970-01-01 by default,
-- which makes the procedure's EXTRACT(EPOCH FROM (response_time - detection_time)) overflow
-- as soon as one incident is unacknowledged. Their NULLs therefore carry the detection time
-- underneath (nullIf(detection_time, detection_time)): the difference is 0, never evaluated
-- into a result, and the seed's queries run verbatim on any data.
CREATE OR REPLACE VIEW {db}.incidents AS
SELECT
    incident_id,
    argMaxMerge(s.severity)             AS severity,
    argMaxMerge(s.status)               AS status,
    argMaxMerge(s.service)              AS service,
    argMaxMerge(s.services)             AS services,
    argMaxMerge(s.title)                AS title,
    argMaxMerge(s.root_cause)           AS root_cause,
    argMaxMerge(s.runbook_url)          AS runbook_url,
    argMaxMerge(s.signal_count)         AS signal_count,
    groupUniqArrayMerge(s.roles)        AS assignments,
    arraySort(arrayMap(a -> (a.1, a.3), arrayFilter(
        a -> a.2 = arrayMax(arrayMap(b -> if(b.1 = a.1, b.2, 0), assignments)), assignments))) AS roles,
    argMaxMerge(s.detected_at)          AS detected_at,
    argMaxMerge(s.acknowledged_at).1    AS acknowledged_at,
    argMaxMerge(s.resolved_at).1        AS resolved_at,
    argMaxMerge(s.closed_at).1          AS closed_at,
    argMaxMerge(s.response_deadline).1  AS response_deadline,
    argMaxMerge(s.resolution_deadline).1 AS resolution_deadline,
    detected_at                         AS detection_time,
    if(isNull(acknowledged_at), nullIf(detection_time, detection_time), acknowledged_at) AS response_time,
    if(isNull(resolved_at), nullIf(detection_time, detection_time), resolved_at)         AS resolved_time,
    detected_at                         AS created_at,
    uniqExactMerge(s.response_breaches) = 0   AS response_sla_met,
    uniqExactMerge(s.resolution_breaches) = 0 AS resolution_sla_met,
    max(s.last_seq)                     AS seq,
    uniqExactMerge(s.breaches)          AS sla_breaches
FROM {db}.incident_state AS s
GROUP BY incident_id;
