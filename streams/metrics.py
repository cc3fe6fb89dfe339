"""tocsin's own Prometheus metrics (served at ``GET /metrics``).

Names follow Prometheus conventions; labels are bounded sets (topics, outcomes, reasons,
kinds, severities) — never fingerprints or incident ids.
"""

from prometheus_client import Counter, Gauge, Histogram

INGESTED = Counter(
    "tocsin_ingested_total", "Inputs parsed and forwarded to the engine, by where they came from.", ["source"]
)
ENGINE_INPUTS = Counter("tocsin_engine_inputs_total", "Inputs the engine applied, once each, by outcome.", ["outcome"])
UNRECOGNISED_FACTS = Counter(
    "tocsin_unrecognised_facts_total",
    "Signals stating a severity fact value no criterion knows (named in the signal log), by fact.",
    ["fact"],
)
DEAD_LETTERS = Counter(
    "tocsin_dead_letters_total", "Refused inputs (items) sent to the dead-letter topic.", ["topic", "reason"]
)
DEAD_LETTER_BYTES = Counter(
    "tocsin_dead_letter_bytes_total", "Payload bytes written to the dead-letter topic.", ["topic"]
)
DLQ_BUDGET_EXCEEDED = Counter(
    "tocsin_dlq_budget_exceeded_total",
    "Dead-letter records kept without their payload: the source passed its byte budget.",
    ["topic"],
)
LIFECYCLE_EVENTS = Counter(
    "tocsin_lifecycle_events_total", "Lifecycle events published, by kind and severity.", ["kind", "severity"]
)
OPEN_INCIDENTS = Gauge("tocsin_open_incidents", "Open incidents owned by this worker, by severity.", ["severity"])
PROCESSING_SECONDS = Histogram(
    "tocsin_processing_seconds",
    "From an input's arrival on Kafka to its lifecycle events being published.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESPONSE_SECONDS = Histogram(
    "tocsin_incident_response_seconds",
    "Detection to acknowledgement, by severity (MTTA).",
    ["severity"],
    buckets=(60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600, 7 * 86400),
)
RESOLUTION_SECONDS = Histogram(
    "tocsin_incident_resolution_seconds",
    "Detection to resolution, by severity (MTTR).",
    ["severity"],
    buckets=(300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 86400, 7 * 86400),
)
HTTP_OVERLOADED = Counter("tocsin_http_overloaded_total", "Requests answered 429: too many bytes in flight.")
STATE_WRITES = Counter("tocsin_state_writes_total", "Records written to the engine state table.")
STATE_WRITES_SKIPPED = Counter(
    "tocsin_state_writes_skipped_total", "Key states not written: their partition moved to another worker mid-batch."
)
CONSUMER_LAG = Gauge("tocsin_consumer_lag_messages", "Messages not yet processed, by topic.", ["topic"])
NOTIFICATIONS = Counter(
    "tocsin_notifications_total",
    "Notification attempts by channel and outcome: delivered, retried, failed (dead-lettered).",
    ["channel", "outcome"],
)
RECOVERY_COMPLETE = Gauge("tocsin_table_recovery_complete", "1 once state tables finished recovery.")


def by_label(counter: Counter) -> dict[str, int]:
    """A counter with one label, as {label value: total}: for reports and diagnoses."""
    return {
        next(iter(sample.labels.values())): int(sample.value)
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
