-- tocsin lifecycle events: one row per event (docs/events.md), duplicates collapse by event_id.
-- The sorting key leads with what dashboards filter on; every column in it is a function of
-- event_id (a re-sent event is byte-identical), so ReplacingMergeTree collapses re-sends.
-- Exact reads use FINAL; a retried batch is dropped by insert_deduplication_token.
CREATE TABLE IF NOT EXISTS {db}.incident_events
(
    event_id        String,
    incident_id     String,
    seq             UInt32,
    kind            LowCardinality(String),
    at              DateTime64(3, 'UTC'),
    severity        LowCardinality(String),
    status          LowCardinality(String),
    service         LowCardinality(String),
    services        Array(LowCardinality(String)),
    title           String,
    reasons         String CODEC(ZSTD),
    fingerprints    Array(String) CODEC(ZSTD),
    fingerprint     String,
    actor           String,
    runbook_url     String,
    root_cause      LowCardinality(String),
    detected_at     DateTime64(3, 'UTC'),
    acknowledged_at Nullable(DateTime64(3, 'UTC')),
    resolved_at     Nullable(DateTime64(3, 'UTC')),
    closed_at       Nullable(DateTime64(3, 'UTC')),
    details         Map(String, String),
    schema_version  UInt16,
    response_deadline   Nullable(DateTime64(3, 'UTC')),
    resolution_deadline Nullable(DateTime64(3, 'UTC')),
    inserted_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (severity, service, kind, at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
