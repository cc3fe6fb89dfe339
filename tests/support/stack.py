"""A running tocsin inside the test's event loop, on the real broker and real chDB.

The worker runs in-process because chDB lets one process open one data directory: the
test reads ClickHouse through the very client the sink writes with.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from clickhouse_connect.driver.client import Client

from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.migrate import migrate
from sinks.clickhouse.writer import EventWriter
from streams.app import create_app
from streams.drain import pipeline_lag
from streams.local.broker import EmbeddedBroker, free_port
from streams.roles import consumed_topics
from streams.settings import Settings, from_env
from streams.topics import TopicNames, ensure_topics
from streams.web.health import is_ready
from streams.worker import start_in_loop


@contextmanager
def embedded_services(data: Path) -> Iterator[tuple[EmbeddedBroker, Client, Settings]]:
    """A fresh embedded broker and a migrated chDB under ``data``, with settings for them
    (environment first): what ``make bench`` and ``make chaos`` run tocsin on."""
    with EmbeddedBroker(log_file=data / "broker.log") as broker:
        client = open_client(embedded_dsn(data))
        migrate(client, "tocsin")
        settings = from_env().with_(
            broker=broker.url,
            clickhouse=embedded_dsn(data),
            data_dir=data,
            http_port=free_port(),
            partitions=4,
            fast_group_join=True,
        )
        try:
            yield broker, client, settings
        finally:
            client.close()


@asynccontextmanager
async def running_tocsin(
    settings: Settings, client: Client, writer: EventWriter | None = None
) -> AsyncIterator[faust.App]:
    """Start the full topology for ``settings`` and stop it afterwards."""
    await ensure_topics(settings.bootstrap_servers, TopicNames(settings.topic_prefix), settings.partitions)
    app = create_app(settings, writer or EventWriter(client, settings.database))
    worker = await start_in_loop(app)
    try:
        await wait_for(lambda: is_ready(app), timeout=60, what="worker ready")
        yield app
    finally:
        await worker.stop()


async def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def settled(app: faust.App, settings: Settings, timeout: float = 30) -> None:
    """Wait until ``app`` has processed and committed everything on the topics it reads.

    The fence for a negative check ("nothing more happened"): it holds once the work is
    done, however slow the machine, instead of after a guessed sleep.
    """
    topics = consumed_topics(settings.role_set, TopicNames(settings.topic_prefix))
    await wait_for(lambda: _no_lag(app, topics), timeout, "the pipeline settled", interval=0.1)


async def _no_lag(app: faust.App, topics: set[str]) -> bool:
    return await pipeline_lag(app, topics) == 0


async def post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers or {}) as response:
        return response.status, await response.json(content_type=None)


async def get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json(content_type=None)


def query_rows(client: Client, sql: str) -> list[dict]:
    result = client.query(sql)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


async def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 20.0) -> list:
    """Read ``expected`` records from the start of ``topic`` (all partitions)."""
    return await read_until(bootstrap, topic, lambda records: len(records) >= expected, timeout)


async def read_until(bootstrap: str, topic: str, done: Callable[[list], bool], timeout: float = 20.0) -> list:
    """Read ``topic`` from the start until ``done(records)`` or the timeout."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + timeout
        while not done(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def produce(bootstrap: str, topic: str, value: bytes, key: bytes | None = None) -> None:
    """Publish one raw record, as an upstream producer would."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def events_of(clickhouse: Client, database: str) -> list[dict]:
    """Lifecycle events in ClickHouse, duplicates collapsed, in incident then seq order."""
    return query_rows(
        clickhouse,
        f"SELECT event_id, incident_id, seq, kind, at, severity, status, service, details, actor, reasons "
        f"FROM {database}.incident_events FINAL ORDER BY incident_id, seq",
    )


async def wait_for_events(clickhouse: Client, database: str, count: int, timeout: float = 30) -> list[dict]:
    """Wait until ClickHouse holds at least ``count`` events."""
    return await wait_for(
        lambda: (rows := events_of(clickhouse, database)) and len(rows) >= count and rows,
        timeout,
        f"{count} lifecycle events in ClickHouse",
    )
