"""Idempotent batched writes into ClickHouse: lifecycle events and the signal log.

Rows reach the sinks as JSON objects, many per Kafka record, and go to ClickHouse as they
are: ClickHouse parses them (``JSONEachRow``, in C++), so a row costs no Python work here.
Each batch carries an ``insert_deduplication_token`` derived from its bytes, so a retried
batch is stored once; the same row arriving in another batch collapses by its id in the
ReplacingMergeTree. Failures retry with capped exponential backoff and jitter, forever:
the caller acknowledges its input only after the write returns, so a ClickHouse outage
becomes backpressure, never loss. Only data ClickHouse refuses as such (a foreign
producer's record) is handed back, record by record, for the dead-letter topic.
"""

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Sequence

import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from sinks.clickhouse.metrics import CLICKHOUSE_ROWS, SINK_BACKLOG, SINK_BATCH_ROWS, SINK_BATCH_SECONDS, SINK_FAILURES

log = logging.getLogger(__name__)

#: ClickHouse error codes that mean "this data cannot be stored" rather than "not now":
#: a batch failing with one is split to find the record at fault, which is dead-lettered.
BAD_DATA_CODES = frozenset({6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 130, 131, 173, 190, 201, 386, 403})
_CODE = re.compile(r"Code: (\d+)\.")
SETTINGS = {"date_time_input_format": "best_effort", "input_format_skip_unknown_fields": 1}


def bad_data(exc: BaseException) -> bool:
    """Whether ClickHouse refused the data itself (retrying the same rows cannot succeed)."""
    if not isinstance(exc, DatabaseError) or isinstance(exc, OperationalError):
        return False
    return any(int(code) in BAD_DATA_CODES for code in _CODE.findall(str(exc)))


def json_block(values: Sequence[bytes]) -> bytes:
    """Records that are JSON arrays of row objects, as one array."""
    inner = [value.strip()[1:-1].strip() for value in values]
    return b"[" + b",".join(part for part in inner if part) + b"]"


def event_row(event: dict) -> dict:
    """A lifecycle event (as published) as an ``incident_events`` row."""
    row = dict(event)
    row["schema_version"] = row.pop("schema")
    row["reasons"] = orjson.dumps(event["reasons"]).decode()
    row["details"] = {str(k): str(v) for k, v in event["details"].items()}
    return row


def _log_retry(state: RetryCallState) -> None:
    SINK_FAILURES.inc()
    SINK_BACKLOG.set(1)
    log.warning(
        "ClickHouse write failed (attempt %d, retrying in %.1fs, input is held back): %r",
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0,
        state.outcome.exception(),
    )


class JSONWriter:
    """Writes records of JSON rows into one table, off the event loop (chDB is sync-only)."""

    def __init__(self, client: Client, table: str, id_column: str, max_backoff: float = 30.0) -> None:
        self.client = client
        self.table = table
        self.max_backoff = max_backoff
        self.row_marker = b'"' + id_column.encode() + b'":'  # a key: never unescaped inside a string
        self.retrying = False  # waiting for ClickHouse: its input is held back on purpose
        self.writing = False  # an insert is under way: the input behind it waits, it is not stuck

    @property
    def busy(self) -> bool:
        """Holding its input back on purpose (writing or retrying): not a stall."""
        return self.writing or self.retrying

    def write_sync(self, values: Sequence[bytes]) -> None:
        block = json_block(values)
        settings = {**SETTINGS, "insert_deduplication_token": hashlib.sha256(block).hexdigest()}
        self.client.raw_insert(self.table, insert_block=block, fmt="JSONEachRow", settings=settings)

    def rows_in(self, values: Sequence[bytes]) -> int:
        return sum(value.count(self.row_marker) for value in values)

    async def write_records(self, values: Sequence[bytes]) -> list[tuple[bytes, Exception]]:
        """Write every record ClickHouse can store; those it refuses as bad data, with why."""
        try:
            await self._insert(values)
            return []
        except Exception as exc:
            if not bad_data(exc):
                raise
        refused = []
        for value in values:
            try:
                await self._insert([value])
            except Exception as exc:
                if not bad_data(exc):
                    raise
                refused.append((value, exc))
        return refused

    def _on_retry(self, state: RetryCallState) -> None:
        self.retrying = True
        _log_retry(state)

    async def _insert(self, values: Sequence[bytes]) -> None:
        """``write_sync(values)`` off the loop, retried with backoff unless the data is bad."""
        if not values:
            return
        started = time.monotonic()
        retrying = AsyncRetrying(
            wait=wait_random_exponential(multiplier=0.2, max=self.max_backoff),
            retry=retry_if_exception(lambda exc: not bad_data(exc)),
            before_sleep=self._on_retry,
            reraise=True,
        )
        self.writing = True
        try:
            async for attempt in retrying:
                with attempt:
                    await asyncio.to_thread(self.write_sync, values)
        finally:
            self.writing = False
            self.retrying = False
        rows = self.rows_in(values)
        SINK_BACKLOG.set(0)
        SINK_BATCH_ROWS.observe(rows)
        CLICKHOUSE_ROWS.labels(self.table.rsplit(".", 1)[-1]).inc(rows)
        SINK_BATCH_SECONDS.observe(time.monotonic() - started)


class EventWriter(JSONWriter):
    """Lifecycle events into ``incident_events``."""

    def __init__(self, client: Client, database: str, max_backoff: float = 30.0) -> None:
        super().__init__(client, f"{database}.incident_events", "event_id", max_backoff)
        self.database = database

    def write_events_sync(self, events: Sequence[dict]) -> None:
        """Published events (``LifecycleEvent.to_dict``) as one batch: for tools and tests."""
        self.write_sync([orjson.dumps([event_row(e) for e in events])])
