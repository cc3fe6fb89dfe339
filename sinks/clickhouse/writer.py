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
from collections.abc import Sequence
from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client
from tenacity import AsyncRetrying, before_sleep_log, wait_random_exponential

log = logging.getLogger(__name__)

COLUMNS = (
    "event_id",
    "incident_id",
    "seq",
    "kind",
    "at",
    "service",
    "title",
    "fingerprint",
    "status",
    "schema_version",
)


def dedup_token(rows: Sequence[list]) -> str:
    """A token that names this exact batch: same events, same token."""
    return hashlib.sha256("\n".join(row[0] for row in rows).encode()).hexdigest()


def to_row(event: dict) -> list:
    """One ``incident_events`` row from a lifecycle event as published on Kafka."""
    at = datetime.fromisoformat(event["at"].replace("Z", "+00:00")).astimezone(UTC)
    return [
        event["event_id"],
        event["incident_id"],
        event["seq"],
        event["kind"],
        at,
        event["service"],
        event["title"],
        event["fingerprint"],
        event["status"],
        event["schema"],
    ]


class EventWriter:
    """Writes batches of lifecycle events, off the event loop (chDB is sync-only)."""

    def __init__(self, client: Client, database: str, max_backoff: float = 30.0) -> None:
        self.client = client
        self.table = f"{database}.incident_events"
        self.max_backoff = max_backoff

    def write_sync(self, rows: Sequence[list]) -> None:
        self.client.insert(
            self.table,
            rows,
            column_names=list(COLUMNS),
            settings={"insert_deduplication_token": dedup_token(rows)},
        )

    async def write(self, rows: Sequence[list]) -> None:
        """Insert rows made by ``to_row``, retrying until ClickHouse accepts them."""
        if not rows:
            return
        retrying = AsyncRetrying(
            wait=wait_random_exponential(multiplier=0.2, max=self.max_backoff),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await asyncio.to_thread(self.write_sync, rows)
