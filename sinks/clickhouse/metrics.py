"""Metrics of the ClickHouse sink (served with tocsin's others at ``GET /metrics``)."""

from prometheus_client import Counter, Gauge, Histogram

SINK_BATCH_SECONDS = Histogram("tocsin_sink_batch_seconds", "Time to write one batch to ClickHouse, retries included.")
SINK_BATCH_ROWS = Histogram(
    "tocsin_sink_batch_rows",
    "Rows per ClickHouse batch.",
    buckets=(1, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 200000),
)
SINK_FAILURES = Counter("tocsin_sink_failures_total", "Failed ClickHouse write attempts (each is retried).")
SINK_BACKLOG = Gauge("tocsin_sink_retrying", "1 while a batch is waiting for ClickHouse to accept it.")
CLICKHOUSE_ROWS = Counter("tocsin_clickhouse_rows_total", "Rows written to ClickHouse, by table.", ["table"])
