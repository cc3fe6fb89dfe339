"""``tocsin up``: the whole pipeline in one process, on embedded defaults unless told otherwise.

Starts what is missing (the Tansu broker, chDB under the data dir), applies the ClickHouse
schema, creates topics, then runs the worker with its HTTP server until SIGINT/SIGTERM, and
stops everything it started on the way out.
"""

import asyncio
import logging
from contextlib import ExitStack

from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.migrate import migrate
from sinks.clickhouse.writer import EventWriter
from streams.app import create_app
from streams.local.broker import EmbeddedBroker
from streams.settings import Settings
from streams.topics import TopicNames, ensure_topics
from streams.worker import run_blocking

log = logging.getLogger(__name__)


def banner(settings: Settings) -> str:
    url = settings.base_url
    return (
        f"tocsin is up.\n"
        f"  Alertmanager webhook: POST {url}/v1/alertmanager\n"
        f"  health:               GET  {url}/healthz  {url}/readyz\n"
        f"  broker:               {settings.broker}\n"
        f"  ClickHouse:           {settings.clickhouse} (database {settings.database})\n"
        f"Point Alertmanager at it with a receiver:\n"
        f"  webhook_configs: [{{url: '{url}/v1/alertmanager', send_resolved: true}}]\n"
        f"Stop with Ctrl-C."
    )


def run_up(settings: Settings) -> None:
    """Run tocsin until interrupted; never leaves a process it started behind."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if not settings.broker:
            broker = stack.enter_context(EmbeddedBroker(log_file=settings.data_dir / "broker.log"))
            settings = settings.with_(broker=broker.url, fast_group_join=True)
        if not settings.clickhouse:
            settings = settings.with_(clickhouse=embedded_dsn(settings.data_dir))
        client = open_client(settings.clickhouse)
        stack.callback(client.close)
        applied = migrate(client, settings.database)
        if applied:
            log.info("applied ClickHouse migrations: %s", ", ".join(applied))
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        names = TopicNames(settings.topic_prefix)
        loop.run_until_complete(ensure_topics(settings.bootstrap_servers, names, settings.partitions))
        app = create_app(settings, EventWriter(client, settings.database))
        print(banner(settings), flush=True)
        run_blocking(app, loop, names.pipeline, settings.drain_seconds)
