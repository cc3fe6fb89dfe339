"""The Faust app: one place that wires topics, tables, agents and HTTP views together."""

import faust

from sinks.clickhouse.writer import EventWriter
from streams.agents import correlate, ingest, sink
from streams.settings import Settings
from streams.topics import TopicNames
from streams.transport import consumer_url
from streams.web import alertmanager, health
from streams.web import incidents as incidents_api

# Short group timeouts: a single worker joins in seconds instead of ~30 s, and a dead
# worker's partitions move quickly. Production clusters may raise them via settings.
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

    def raw_topic(name: str) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    alerts = raw_topic(names.alerts)
    signals = app.topic(
        names.signals, key_type=str, value_type=bytes, key_serializer=correlate.KEY_SERIALIZER, value_serializer="raw"
    )
    incidents, dlq = raw_topic(names.incidents), raw_topic(names.dlq)
    table = correlate.incident_table(app, settings.partitions)

    ingest.register(app, alerts, signals, dlq, settings.limits)
    correlate.register(app, signals, incidents, dlq, table)
    sink.register(app, incidents, dlq, writer, settings.sink_batch_size, settings.sink_batch_seconds)
    alertmanager.register(app, alerts, settings.limits)
    health.register(app)
    incidents_api.register(app, writer.client, settings.database)
    return app
