"""Topic names (part of tocsin's public interface) and their creation.

Topics are created up front with an explicit partition count: a broker that auto-creates
topics on first use picks its own count, and the incident table's changelog must match the
partitioning of the topic that feeds it. ``service-status`` is compacted: the latest status
per service is all a status page needs.
"""

import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicNames:
    prefix: str = "tocsin"

    @property
    def alerts(self) -> str:
        """Alert payloads as sent (Alertmanager, Prometheus, PagerDuty, CloudEvents, generic)."""
        return f"{self.prefix}.alerts"

    @property
    def checks(self) -> str:
        """Health-check and smoke/integration-test results, keyed by check id."""
        return f"{self.prefix}.checks"

    @property
    def reports(self) -> str:
        """User reports, keyed by service."""
        return f"{self.prefix}.reports"

    @property
    def commands(self) -> str:
        """Human commands, keyed by incident id."""
        return f"{self.prefix}.commands"

    @property
    def changes(self) -> str:
        """Change events (deploys, config pushes), keyed by service."""
        return f"{self.prefix}.changes"

    @property
    def signals(self) -> str:
        """Internal: parsed inputs and timer ticks, keyed by correlation-key token."""
        return f"{self.prefix}.signals"

    @property
    def incidents(self) -> str:
        """Lifecycle events keyed by incident id."""
        return f"{self.prefix}.incidents"

    @property
    def signal_log(self) -> str:
        """Every engine input with its outcome, for the ClickHouse ``signals`` table."""
        return f"{self.prefix}.signal-log"

    @property
    def event_log(self) -> str:
        """Internal: lifecycle events as ClickHouse rows, many per record (``incidents`` has one
        event per record for consumers; the sink reads these instead)."""
        return f"{self.prefix}.event-log"

    @property
    def service_status(self) -> str:
        """Compacted: current status per service."""
        return f"{self.prefix}.service-status"

    @property
    def silences(self) -> str:
        """Compacted: every silence made over the API, keyed by id (its latest version)."""
        return f"{self.prefix}.silences"

    @property
    def notify_retry(self) -> str:
        """Internal: notifications waiting for their next delivery attempt (the notify role)."""
        return f"{self.prefix}.notify-retry"

    @property
    def dlq(self) -> str:
        """Rejected input, verbatim, with the reason in headers."""
        return f"{self.prefix}.dlq"

    @property
    def inputs(self) -> list[str]:
        return [self.alerts, self.checks, self.reports, self.commands, self.changes]

    def all(self) -> list[str]:
        return [
            *self.inputs,
            self.signals,
            self.incidents,
            self.event_log,
            self.signal_log,
            self.service_status,
            self.silences,
            self.notify_retry,
            self.dlq,
        ]


async def ensure_topics(bootstrap_servers: str, names: TopicNames, partitions: int) -> None:
    """Create any missing tocsin topic, with ``partitions`` partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        compacted = {"cleanup.policy": "compact"}
        configs = {names.service_status: compacted, names.silences: compacted}
        missing = [
            NewTopic(name, partitions, 1, topic_configs=configs.get(name, {}))
            for name in names.all()
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently: %s", [t.name for t in missing])
    finally:
        await admin.close()
