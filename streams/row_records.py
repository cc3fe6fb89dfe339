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
    """``rows`` as JSON arrays of at most ``ROWS_PER_RECORD`` rows and ``MAX_RECORD_BYTES``."""
    chunk: list[bytes] = []
    size = 2
    for row in rows:
        encoded = orjson.dumps(row)
        if chunk and (len(chunk) >= ROWS_PER_RECORD or size + len(encoded) + 1 > MAX_RECORD_BYTES):
            yield b"[" + b",".join(chunk) + b"]"
            chunk, size = [], 2
        chunk.append(encoded)
        size += len(encoded) + 1
    if chunk:
        yield b"[" + b",".join(chunk) + b"]"
