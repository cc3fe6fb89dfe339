-- tocsin lifecycle events: one row per event, duplicates collapse by event_id.
-- The sorting key leads with what dashboards filter on; every column in it is a function of
-- event_id, so ReplacingMergeTree collapses exact re-sends. Exact reads use FINAL.
CREATE TABLE IF NOT EXISTS {db}.incident_events
(
    event_id       String,
    incident_id    String,
    seq            UInt32,
    kind           LowCardinality(String),
    at             DateTime64(3, 'UTC'),
    service        LowCardinality(String),
    title          String,
    fingerprint    String,
    status         LowCardinality(String),
    schema_version UInt16,
    inserted_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (service, kind, at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
