"""Idempotent batched writes of lifecycle events into ``incident_events``.

Each batch carries an ``insert_deduplication_token`` derived from its event ids, so a
retried batch is stored once; the same event arriving in another batch collapses by
``event_id`` in the ReplacingMergeTree. Failures retry with capped exponential backoff and
jitter, forever: the caller acknowledges its input only after ``write`` returns, so a
ClickHouse outage becomes backpressure, never loss.
"""

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from sinks.clickhouse.metrics import CLICKHOUSE_ROWS, SINK_BACKLOG, SINK_BATCH_ROWS, SINK_BATCH_SECONDS, SINK_FAILURES

log = logging.getLogger(__name__)

COLUMNS = (
    "event_id",
    "incident_id",
    "seq",
    "kind",
    "at",
    "severity",
    "status",
    "service",
    "services",
    "title",
    "reasons",
    "fingerprints",
    "fingerprint",
    "actor",
    "runbook_url",
    "root_cause",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "details",
    "schema_version",
    "response_deadline",
    "resolution_deadline",
    "signal_count",
)


def dedup_token(rows: Sequence[list]) -> str:
    """A token that names this exact batch: same events, same token."""
    return hashlib.sha256("\n".join(row[0] for row in rows).encode()).hexdigest()


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def to_row(event: dict) -> list:
    """One ``incident_events`` row from a lifecycle event as published on Kafka."""
    return [
        event["event_id"],
        event["incident_id"],
        int(event["seq"]),
        event["kind"],
        _time(event["at"]),
        event["severity"],
        event["status"],
        event["service"],
        list(event["services"]),
        event["title"],
        orjson.dumps(event["reasons"]).decode(),
        list(event["fingerprints"]),
        event["fingerprint"],
        event["actor"],
        event["runbook_url"],
        event["root_cause"],
        _time(event["detected_at"]),
        _time(event["acknowledged_at"]),
        _time(event["resolved_at"]),
        _time(event["closed_at"]),
        {str(k): str(v) for k, v in event["details"].items()},
        int(event["schema"]),
        _time(event.get("response_deadline")),
        _time(event.get("resolution_deadline")),
        int(event.get("signal_count") or len(event["fingerprints"])),
    ]


def _log_retry(state: RetryCallState) -> None:
    SINK_FAILURES.inc()
    SINK_BACKLOG.set(1)
    log.warning(
        "ClickHouse write failed (attempt %d, retrying in %.1fs, input is held back): %r",
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0,
        state.outcome.exception(),
    )


class BatchWriter:
    """Writes batches of rows into one table, off the event loop (chDB is sync-only).

    The first column of every row is its id; the batch's dedup token is derived from them.
    """

    def __init__(self, client: Client, table: str, columns: Sequence[str], max_backoff: float = 30.0) -> None:
        self.client = client
        self.table = table
        self.columns = list(columns)
        self.max_backoff = max_backoff
        self.retrying = False  # waiting for ClickHouse: its input is held back on purpose
        self.writing = False  # an insert is under way: the input behind it waits, it is not stuck

    def _on_retry(self, state: RetryCallState) -> None:
        self.retrying = True
        _log_retry(state)

    def write_sync(self, rows: Sequence[list]) -> None:
        self.client.insert(
            self.table, rows, column_names=self.columns, settings={"insert_deduplication_token": dedup_token(rows)}
        )

    @property
    def busy(self) -> bool:
        """Holding its input back on purpose (writing or retrying): not a stall."""
        return self.writing or self.retrying

    async def write(self, rows: Sequence) -> None:
        """Insert rows, retrying until ClickHouse accepts them."""
        await self._insert(rows, len(rows), give_up_on_bad_data=False)

    async def _insert(self, batch: Sequence, rows: int, *, give_up_on_bad_data: bool) -> None:
        """``write_sync(batch)`` off the loop, retried with backoff; ``rows`` for the metrics.

        With ``give_up_on_bad_data``, an error that says the data itself cannot be stored is
        raised at once instead of retried (see ``bad_data``).
        """
        if not batch:
            return
        started = time.monotonic()
        retrying = AsyncRetrying(
            wait=wait_random_exponential(multiplier=0.2, max=self.max_backoff),
            retry=retry_if_exception(lambda exc: not (give_up_on_bad_data and bad_data(exc))),
            before_sleep=self._on_retry,
            reraise=True,
        )
        self.writing = True
        try:
            async for attempt in retrying:
                with attempt:
                    await asyncio.to_thread(self.write_sync, batch)
        finally:
            self.writing = False
            self.retrying = False
        SINK_BACKLOG.set(0)
        SINK_BATCH_ROWS.observe(rows)
        CLICKHOUSE_ROWS.labels(self.table.rsplit(".", 1)[-1]).inc(rows)
        SINK_BATCH_SECONDS.observe(time.monotonic() - started)


class EventWriter(BatchWriter):
    """Lifecycle events into ``incident_events`` (rows from ``to_row``)."""

    def __init__(self, client: Client, database: str, max_backoff: float = 30.0) -> None:
        super().__init__(client, f"{database}.incident_events", COLUMNS, max_backoff)
        self.database = database


SIGNAL_COLUMNS = (
    "signal_id",
    "at",
    "received_at",
    "input",
    "source",
    "service",
    "fingerprint",
    "status",
    "outcome",
    "reason",
    "incident_id",
    "title",
)


#: ClickHouse error codes that mean "this data cannot be stored" rather than "not now":
#: a batch failing with one is split to find the record at fault, which is dead-lettered.
BAD_DATA_CODES = frozenset({6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 130, 131, 173, 190, 201, 386, 403})
_CODE = re.compile(r"Code: (\d+)\.")


def bad_data(exc: BaseException) -> bool:
    """Whether ClickHouse refused the data itself (retrying the same rows cannot succeed)."""
    if not isinstance(exc, DatabaseError) or isinstance(exc, OperationalError):
        return False
    return any(int(code) in BAD_DATA_CODES for code in _CODE.findall(str(exc)))


def json_block(values: Sequence[bytes]) -> bytes:
    """Records that are JSON arrays of row objects, as one array: ClickHouse parses it (in C++)."""
    inner = [value.strip()[1:-1].strip() for value in values]
    return b"[" + b",".join(part for part in inner if part) + b"]"


class JSONWriter(BatchWriter):
    """Rows that arrive as JSON objects (the signal log) go to ClickHouse as they are.

    ClickHouse reads them with ``JSONEachRow``: no per-row work in Python. A batch that
    ClickHouse refuses as bad data (a foreign producer's record) is written record by
    record, and the records it still refuses are handed back for the dead-letter topic;
    any other failure is retried until ClickHouse takes the batch, as in ``BatchWriter``.
    """

    SETTINGS = {"date_time_input_format": "best_effort", "input_format_skip_unknown_fields": 1}

    def __init__(self, client: Client, table: str, id_column: str, max_backoff: float = 30.0) -> None:
        super().__init__(client, table, (), max_backoff)
        self.row_marker = b'"' + id_column.encode() + b'":'  # a key, never inside a JSON string

    def write_sync(self, values: Sequence[bytes]) -> None:  # type: ignore[override]
        block = json_block(values)
        settings = {**self.SETTINGS, "insert_deduplication_token": hashlib.sha256(block).hexdigest()}
        self.client.raw_insert(self.table, insert_block=block, fmt="JSONEachRow", settings=settings)

    def rows_in(self, values: Sequence[bytes]) -> int:
        return sum(value.count(self.row_marker) for value in values)

    async def write_records(self, values: Sequence[bytes]) -> list[tuple[bytes, Exception]]:
        """Write every record ClickHouse can store; those it refuses as bad data, with why."""
        try:
            await self._insert(values, self.rows_in(values), give_up_on_bad_data=True)
            return []
        except Exception as exc:
            if not bad_data(exc):
                raise
        refused = []
        for value in values:
            try:
                await self._insert([value], self.rows_in([value]), give_up_on_bad_data=True)
            except Exception as exc:
                if not bad_data(exc):
                    raise
                refused.append((value, exc))
        return refused


def signal_row(record: dict) -> list:
    """One ``signals`` row from a record of ``streams.signal_log``."""
    row = [record[name] for name in SIGNAL_COLUMNS]
    row[1], row[2] = _time(record["at"]), _time(record["received_at"])
    return row


def signal_rows(records: list[dict]) -> list[list]:
    """``signals`` rows from one signal-log record (a JSON array of rows)."""
    return [signal_row(record) for record in records]
