"""Running tocsin: ``tocsin up`` (embedded defaults) and ``tocsin worker`` (external services).

Both apply the ClickHouse schema, create the topics, then run the worker with its HTTP
server until SIGINT/SIGTERM, drain in-flight work, and stop everything they started.
"""

import asyncio
import logging
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.migrate import migrate
from sinks.clickhouse.writer import EventWriter
from streams import local_state
from streams.agents import correlate
from streams.app import create_app
from streams.demo import replay as demo
from streams.local.broker import EmbeddedBroker
from streams.logs import configure as configure_logging
from streams.roles import ALL, API, ENGINE, NOTIFY, consumed_topics
from streams.settings import Settings
from streams.topics import TopicNames, ensure_topics
from streams.worker import run_blocking

log = logging.getLogger(__name__)

#: Exit status when the local state and the broker disagree (EX_CONFIG): a person must decide.
EXIT_REFUSED = 78


def banner(settings: Settings) -> str:
    url, roles = settings.base_url, settings.role_set
    lines = [f"tocsin is up ({', '.join(r for r in ALL if r in roles)})."]
    if API in roles:
        lines += [
            f"  Alertmanager webhook: POST {url}/v1/alertmanager",
            f"  other inputs:         POST {url}/v1/events  {url}/v1/checks  {url}/v1/reports",
            f"  incidents:            GET  {url}/v1/incidents   (tocsin incidents / tocsin ack …)",
        ]
    lines += [
        f"  health, metrics:      GET  {url}/healthz  {url}/readyz  {url}/metrics",
        f"  broker:               {settings.broker}",
    ]
    if settings.needs_clickhouse:
        lines.append(f"  ClickHouse:           {settings.clickhouse} (database {settings.database})")
    if NOTIFY in roles:
        channels = settings.policy.notifications.channels.values()
        lines.append(f"  notifications:        {', '.join(f'{c.name} ({c.type})' for c in channels) or 'no channels'}")
    if API in roles:
        lines += [
            "Point Alertmanager at it with a receiver:",
            f"  webhook_configs: [{{url: '{url}/v1/alertmanager', send_resolved: true}}]",
        ]
    return "\n".join([*lines, "Stop with Ctrl-C."])


def open_clickhouse(settings: Settings, stack: ExitStack) -> EventWriter | None:
    """The migrated ClickHouse, for the roles that use it; ``stack`` closes it."""
    if not settings.needs_clickhouse:
        return None
    client = open_client(settings.clickhouse)
    stack.callback(client.close)
    applied = migrate(client, settings.database, settings.signals_ttl_days)
    if applied:
        log.info("applied ClickHouse migrations: %s", ", ".join(applied))
    return EventWriter(client, settings.database)


def run_worker(settings: Settings, stack: ExitStack) -> None:
    """Schema, topics, then the worker until a signal; ``stack`` closes what was started."""
    writer = open_clickhouse(settings, stack)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    names = TopicNames(settings.topic_prefix)
    loop.run_until_complete(ensure_topics(settings.bootstrap_servers, names, settings.partitions))
    app = create_app(settings, writer)
    tables = Path(app.conf.tabledir) if ENGINE in settings.role_set and settings.store.startswith("rocksdb") else None
    if tables is not None:
        keep_or_refuse_local_state(settings, tables, loop)
        local_state.mark_running(tables)
    print(banner(settings), flush=True)
    if settings.demo:
        demo.start(settings.base_url, settings.api_token or None, lambda text: print(text, flush=True))
    run_blocking(app, loop, consumed_topics(settings.role_set, names), settings.drain_seconds)
    if tables is not None:
        local_state.mark_stopped(tables)  # only a clean stop gets here


def keep_or_refuse_local_state(settings: Settings, tables: Path, loop: asyncio.AbstractEventLoop) -> None:
    """Adopt the local engine state on a new broker, or refuse to start on one that lost it."""
    partitions = local_state.local_partitions(tables, correlate.TABLE)
    changelog = correlate.changelog_topic(settings.app_id)
    if not settings.embedded_broker and not settings.adopt_local_state:
        lost = loop.run_until_complete(local_state.lost_partitions(settings.bootstrap_servers, changelog, partitions))
        if lost:
            log.critical("refusing to start: %s", local_state.explain(lost, changelog))
            raise SystemExit(EXIT_REFUSED)
        if partitions and local_state.stopped_uncleanly(tables):
            rebuilt = local_state.rebuild(partitions)
            log.warning(
                "the last engine on %s did not stop cleanly: its local state may hold writes the changelog "
                "never received; rebuilding %d partitions from %s",
                tables,
                rebuilt,
                changelog,
            )
        return
    adopted = local_state.adopt(partitions)
    if adopted:
        log.info("resuming with the engine state kept in %s (%d partitions); the broker is new", tables, adopted)


def run_up(settings: Settings) -> None:
    """Run tocsin on embedded defaults where nothing else is given; leaves no process behind."""
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if not settings.broker:
            broker = stack.enter_context(EmbeddedBroker(log_file=settings.data_dir / "broker.log"))
            # An in-memory broker does not survive a restart, so exiting on a stall would lose
            # the queued input: re-reading is all the stall guard may do here.
            settings = settings.with_(broker=broker.url, fast_group_join=True, embedded_broker=True)
            settings = replace(settings, exit_when_stuck=False)
        if not settings.clickhouse:
            settings = settings.with_(clickhouse=embedded_dsn(settings.data_dir))
        run_worker(settings, stack)


def run_external(settings: Settings) -> None:
    """``tocsin worker``: a broker and ClickHouse must be given (flags or environment)."""
    missing = ["broker"] if not settings.broker else []
    if settings.needs_clickhouse and not settings.clickhouse:
        missing.append("clickhouse")
    if missing:
        raise SystemExit(f"tocsin worker needs {' and '.join(missing)} (flags or TOCSIN_* environment)")
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        run_worker(settings, stack)
