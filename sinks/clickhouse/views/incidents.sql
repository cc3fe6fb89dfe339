-- tocsin.incidents: the latest state of each incident, exact at query time.
-- A view is not versioned data: `tocsin migrate` replaces it with this definition every time.
-- Every lifecycle event carries its incident's current state, so the row with the highest
-- seq is the incident; duplicates of an event are identical, so argMax is unaffected by
-- re-sends and by arrival order. Exposes the columns the incident-management metric
-- queries use (severity, detection_time, response_time, resolved_time, created_at), the
-- response roles, the signal count (every signal, also past the 100 fingerprints an event lists), the SLA deadlines and whether each target was met.
-- Nullable times are taken as argMax(tuple(x), seq).1: argMax skips NULLs, and a reopened
-- incident's latest event has no resolved_at, which must not fall back to the earlier one.
-- response_time and resolved_time are NULL until they happen, yet ClickHouse evaluates an
-- expression on NULL rows too, with the value underneath the NULL: 1970-01-01 by default,
-- which makes the procedure's EXTRACT(EPOCH FROM (response_time - detection_time)) overflow
-- as soon as one incident is unacknowledged. Their NULLs therefore carry the detection time
-- underneath (nullIf(detection_time, detection_time)): the difference is 0, never evaluated
-- into a result, and the seed's queries run verbatim on any data.
CREATE OR REPLACE VIEW {db}.incidents AS
SELECT
    id                                  AS incident_id,
    argMax(e_severity, e_seq)           AS severity,
    argMax(e_status, e_seq)             AS status,
    argMax(e_service, e_seq)            AS service,
    argMax(e_services, e_seq)           AS services,
    argMax(e_title, e_seq)              AS title,
    argMax(e_root_cause, e_seq)         AS root_cause,
    argMax(e_runbook_url, e_seq)        AS runbook_url,
    argMax(e_signal_count, e_seq)       AS signal_count,
    arraySort(groupArrayIf((e_details['role'], e_details['assignee']), e_kind = 'role_assigned')) AS roles,
    argMax(e_detected_at, e_seq)        AS detected_at,
    argMax(tuple(e_acknowledged_at), e_seq).1    AS acknowledged_at,
    argMax(tuple(e_resolved_at), e_seq).1        AS resolved_at,
    argMax(tuple(e_closed_at), e_seq).1          AS closed_at,
    argMax(tuple(e_response_deadline), e_seq).1  AS response_deadline,
    argMax(tuple(e_resolution_deadline), e_seq).1 AS resolution_deadline,
    argMax(e_detected_at, e_seq)        AS detection_time,
    if(isNull(acknowledged_at), nullIf(detection_time, detection_time), acknowledged_at) AS response_time,
    if(isNull(resolved_at), nullIf(detection_time, detection_time), resolved_at)         AS resolved_time,
    argMax(e_detected_at, e_seq)        AS created_at,
    countIf(e_kind = 'sla_breached' AND e_details['sla'] = 'response') = 0   AS response_sla_met,
    countIf(e_kind = 'sla_breached' AND e_details['sla'] = 'resolution') = 0 AS resolution_sla_met,
    max(e_seq)                          AS seq,
    countIf(e_kind = 'sla_breached')    AS sla_breaches
FROM
(
    SELECT DISTINCT
        incident_id AS id, event_id, seq AS e_seq, kind AS e_kind, severity AS e_severity, status AS e_status,
        service AS e_service, services AS e_services, title AS e_title, root_cause AS e_root_cause,
        runbook_url AS e_runbook_url, signal_count AS e_signal_count, details AS e_details,
        detected_at AS e_detected_at, acknowledged_at AS e_acknowledged_at, resolved_at AS e_resolved_at,
        closed_at AS e_closed_at, response_deadline AS e_response_deadline,
        resolution_deadline AS e_resolution_deadline
    FROM {db}.incident_events
)
GROUP BY id;
