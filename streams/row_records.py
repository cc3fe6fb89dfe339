"""ClickHouse rows on Kafka: many per record, as JSON arrays the sinks hand to ClickHouse.

Used for the signal log (``tocsin.signal-log``) and for lifecycle events as
``incident_events`` rows (``tocsin.event-log``): a row costs bytes in a record, not a
record of its own, which is what a Kafka hop charges for.
"""

from collections.abc import Iterator

import orjson

ROWS_PER_RECORD = 1000
MAX_RECORD_BYTES = 900_000


def row_records(rows: list[dict]) -> Iterator[bytes]:
    """``rows`` as JSON arrays of at most ``ROWS_PER_RECORD`` rows and ``MAX_RECORD_BYTES``
    (a single row larger than that is a record of its own)."""
    for start in range(0, len(rows), ROWS_PER_RECORD):
        yield from _fitting(rows[start : start + ROWS_PER_RECORD])


def _fitting(rows: list[dict]) -> Iterator[bytes]:
    """One orjson call per record (not one per row plus a join); halved until it fits."""
    encoded = orjson.dumps(rows)
    if len(encoded) <= MAX_RECORD_BYTES or len(rows) == 1:
        yield encoded
        return
    half = len(rows) // 2
    yield from _fitting(rows[:half])
    yield from _fitting(rows[half:])
