"""The Faust app: one place that wires topics, tables, agents, timers and HTTP views."""

import faust

from sinks.clickhouse.writer import EventWriter, JSONWriter
from streams import stall_guard
from streams.agents import correlate, ingest, sink
from streams.outcomes import Outcomes
from streams.settings import Settings
from streams.state_store import StateStore
from streams.topics import TopicNames
from streams.transport import consumer_url
from streams.web import engine_state, health
from streams.web import incidents as incidents_api
from streams.web import ingest as ingest_api
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
    }
    if settings.fast_group_join:
        conf.update(_FAST_GROUP_JOIN)
    return conf


def create_app(settings: Settings, writer: EventWriter) -> faust.App:
    """Build the tocsin Faust app for ``settings``, writing lifecycle events via ``writer``."""
    app = faust.App(settings.app_id, **faust_settings(settings))
    names = TopicNames(settings.topic_prefix)

    def raw_topic(name: str, key_serializer: str = "raw") -> faust.TopicT:
        return app.topic(name, key_type=None, value_type=bytes, key_serializer=key_serializer, value_serializer="raw")

    inputs = {"alerts": names.alerts, "checks": names.checks, "reports": names.reports, "commands": names.commands}
    topics = {kind: raw_topic(name) for kind, name in inputs.items()}
    signals = raw_topic(names.signals, key_serializer=correlate.KEY_SERIALIZER)
    incidents, status, dlq = raw_topic(names.incidents), raw_topic(names.service_status), raw_topic(names.dlq)
    log_topic, event_log = raw_topic(names.signal_log), raw_topic(names.event_log)
    table = correlate.incident_table(app, settings.partitions)
    outcomes = Outcomes()
    store = StateStore(table, cache_keys=settings.state_cache_keys)

    for kind, topic in topics.items():
        ingest.register(app, kind, topic, signals, dlq, settings.limits, settings.policy, settings.partitions)
    correlate.register(
        app,
        signals,
        incidents,
        event_log,
        status,
        log_topic,
        dlq,
        store,
        settings.policy,
        settings.partitions,
        batch_size=settings.correlate_batch_size,
        batch_seconds=settings.correlate_batch_seconds,
        tick_seconds=settings.tick_seconds,
        outcomes=outcomes,
    )
    # Event-log and signal-log records carry up to 1,000 rows each: a few make a ClickHouse batch.
    batching = (max(1, settings.sink_batch_size // 20), settings.sink_batch_seconds)
    sink.register(app, "sink", event_log, dlq, writer, *batching)
    signals_writer = JSONWriter(writer.client, f"{settings.database}.signals", "signal_id", writer.max_backoff)
    sink.register(app, "sink-signals", log_topic, dlq, signals_writer, *batching)
    access = Access.of(settings.api_token, settings.api_tokens)
    ingest_api.register(app, signals, dlq, settings.limits, settings.policy, access, settings.partitions, outcomes)
    incidents_api.register(app, writer.client, settings.database, settings.policy, access)
    sink_writers = {names.event_log: writer, names.signal_log: signals_writer}
    stall_guard.register(
        app,
        names.pipeline,
        lambda topic: topic in sink_writers and sink_writers[topic].busy,
        exit_when_stuck=settings.exit_when_stuck,
        interval=settings.stall_check_seconds,
    )
    engine_state.register(app, store, access)
    health.register(app)
    return app
