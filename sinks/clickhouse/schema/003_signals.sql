-- tocsin.signals: every input the engine judged, with its outcome (accepted, duplicate, stale,
-- suppressed with the reason, gated, ignored, rejected) — for noise analysis: which services
-- and monitors send the most duplicates, flaps and suppressed alerts. signal_id is derived
-- from the input, its outcome and its arrival (the Kafka record's timestamp), so a replay
-- collapses while each re-send counts; rows expire after the TTL, which tocsin sets at
-- start-up from TOCSIN_SIGNALS_TTL_DAYS.
CREATE TABLE IF NOT EXISTS {db}.signals
(
    signal_id   String,
    at          DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    input       LowCardinality(String),
    source      LowCardinality(String),
    service     LowCardinality(String),
    fingerprint String,
    status      LowCardinality(String),
    outcome     LowCardinality(String),
    reason      String,
    incident_id String,
    title       String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (service, at, signal_id)
TTL toDateTime(received_at) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000;
