"""The Faust app: one place that wires topics, tables, agents, timers and HTTP views."""

import ssl

import faust

from sinks.clickhouse.writer import EventWriter, JSONWriter
from streams import collector, silence_book, stall_guard
from streams.agents import correlate, ingest, notify, sink
from streams.outcomes import Outcomes
from streams.roles import API, CLICKHOUSE_ROLES, ENGINE, INGEST, NOTIFY, SINK, consumed_topics
from streams.settings import Settings
from streams.silence_book import SilenceBook
from streams.state_store import StateStore
from streams.topics import TopicNames
from streams.transport import consumer_url
from streams.web import engine_state, health
from streams.web import incidents as incidents_api
from streams.web import ingest as ingest_api
from streams.web import silences as silences_api
from streams.web.auth import Access

# Short group timeouts: a single worker joins in seconds instead of ~30 s, and a dead
# worker's partitions move quickly. Production clusters may keep Faust's defaults.
_FAST_GROUP_JOIN = {
    "broker_session_timeout": 6.0,
    "broker_heartbeat_interval": 1.0,
    "broker_rebalance_timeout": 6.0,
}


def faust_settings(settings: Settings) -> dict:
    """Faust configuration derived from tocsin's settings."""
    conf = {
        "broker": settings.broker,
        "broker_consumer": consumer_url(settings.broker),
        "store": settings.store,
        "datadir": str(settings.data_dir / "faust"),
        "topic_partitions": settings.partitions,
        "topic_replication_factor": 1,
        "table_standby_replicas": 0,
        "consumer_auto_offset_reset": "earliest",
        "web_bind": settings.http_host,
        "web_host": settings.http_host,
        "web_port": settings.http_port,
        "web_router_enabled": False,
        "web_tables_enabled": False,
        "web_stats_enabled": False,
        "producer_acks": -1,
        # One produce batch per partition and request rather than per 16 kB (Faust's default): the
        # hot topics carry records of up to 900 kB and bursts of small lifecycle events.
        "producer_max_batch_size": 1_000_000,
    }
    if settings.fast_group_join:
        conf.update(_FAST_GROUP_JOIN)
    if settings.tls_cert:
        conf["web_ssl_context"] = server_tls(settings.tls_cert, settings.tls_key)
    return conf


def server_tls(cert: str, key: str) -> ssl.SSLContext:
    """HTTPS for the HTTP API, for senders that insist on ``https://`` (PagerDuty's clients)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def raw_topic(app: faust.App, name: str, key_serializer: str = "raw") -> faust.TopicT:
    """Topics carry bytes: tocsin encodes and decodes them itself (``streams.codec``)."""
    return app.topic(name, key_type=None, value_type=bytes, key_serializer=key_serializer, value_serializer="raw")


def create_app(settings: Settings, writer: EventWriter | None = None) -> faust.App:
    """Build the tocsin Faust app for ``settings``: the parts its roles name (``streams.roles``).

    ``writer`` writes lifecycle events to ClickHouse; the ``sink`` and ``api`` roles need it.
    """
    collector.tune()
    app = faust.App(settings.app_id, **faust_settings(settings))
    roles, names = settings.role_set, TopicNames(settings.topic_prefix)
    if roles & CLICKHOUSE_ROLES and writer is None:
        raise ValueError(f"the {', '.join(sorted(roles & CLICKHOUSE_ROLES))} role needs a ClickHouse writer")

    signals = raw_topic(app, names.signals, key_serializer=correlate.KEY_SERIALIZER)
    dlq = raw_topic(app, names.dlq)
    access = Access.of(settings.api_token, settings.api_tokens)
    outcomes = Outcomes() if ENGINE in roles else None  # commands wait for an engine in this process
    waiting: dict[str, JSONWriter] = {}
    store: StateStore | None = None
    book = register_silences(app, settings, names, signals, access) if roles & {ENGINE, API} else None
    if INGEST in roles:
        register_ingest(app, settings, names, signals, dlq)
    if ENGINE in roles:
        store = register_engine(app, settings, names, signals, dlq, outcomes, book)
    if SINK in roles:
        waiting = register_sinks(app, settings, names, dlq, writer)
    if NOTIFY in roles:
        retries = raw_topic(app, names.notify_retry)
        notify.register(
            app, raw_topic(app, names.incidents), retries, signals, dlq, settings.policy, settings.partitions
        )
    if API in roles:
        ingest_api.register(app, signals, dlq, settings.limits, settings.policy, access, settings.partitions, outcomes)
        incidents_api.register(app, writer.client, settings.database, settings.policy, access)
    if ENGINE in roles or API in roles:
        engine_state.register(app, store, access, settings.partitions)
    stall_guard.register(
        app,
        consumed_topics(roles, names),
        lambda topic: topic in waiting and waiting[topic].busy,
        exit_when_stuck=settings.exit_when_stuck,
        interval=settings.stall_check_seconds,
    )
    health.register(app)
    return app


def register_ingest(
    app: faust.App, settings: Settings, names: TopicNames, signals: faust.TopicT, dlq: faust.TopicT
) -> None:
    """One ingest agent per input topic, writing engine input to ``signals``."""
    sources = list(zip(("alerts", "checks", "reports", "commands", "changes"), names.inputs, strict=True))
    if settings.event_recorder_topic:
        sources.append(("alertmanager-events", settings.event_recorder_topic))
    for kind, name in sources:
        topic = raw_topic(app, name)
        ingest.register(app, kind, topic, signals, dlq, settings.limits, settings.policy, settings.partitions)


def register_engine(
    app: faust.App,
    settings: Settings,
    names: TopicNames,
    signals: faust.TopicT,
    dlq: faust.TopicT,
    outcomes: Outcomes | None,
    book: SilenceBook | None = None,
) -> StateStore:
    """The correlate agent and its state table; returns the store the state views read."""
    store = StateStore(correlate.incident_table(app, settings.partitions), cache_keys=settings.state_cache_keys)
    correlate.register(
        app,
        signals,
        raw_topic(app, names.incidents),
        raw_topic(app, names.event_log),
        raw_topic(app, names.service_status),
        raw_topic(app, names.signal_log),
        dlq,
        store,
        settings.policy,
        settings.partitions,
        batch_size=settings.correlate_batch_size,
        batch_seconds=settings.correlate_batch_seconds,
        tick_seconds=settings.tick_seconds,
        outcomes=outcomes,
        book=book,
        silences=raw_topic(app, names.silences),
    )
    return store


def register_silences(
    app: faust.App, settings: Settings, names: TopicNames, signals: faust.TopicT, access: Access
) -> SilenceBook:
    """The silences this process knows, read from their compacted topic; with the API role,
    the views that make, list and expire them."""
    book = SilenceBook()

    @app.task
    async def follow_silences() -> None:
        await silence_book.follow(book, settings.bootstrap_servers, names.silences)

    if API in settings.role_set:
        silences_api.register(app, book, raw_topic(app, names.silences), signals, settings.partitions, access)
    return book


def register_sinks(
    app: faust.App, settings: Settings, names: TopicNames, dlq: faust.TopicT, writer: EventWriter
) -> dict[str, JSONWriter]:
    """The ClickHouse sinks; returns each sink's writer by the topic it reads."""
    # Event-log and signal-log records carry up to 1,000 rows each: a few make a ClickHouse batch.
    batching = (max(1, settings.sink_batch_size // 20), settings.sink_batch_seconds)
    signals_writer = JSONWriter(writer.client, f"{settings.database}.signals", "signal_id", writer.max_backoff)
    sinks = {names.event_log: ("sink", writer), names.signal_log: ("sink-signals", signals_writer)}
    for name, (agent, sink_writer) in sinks.items():
        sink.register(app, agent, raw_topic(app, name), dlq, sink_writer, *batching)
    return {name: sink_writer for name, (_, sink_writer) in sinks.items()}
