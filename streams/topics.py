"""Topic names (part of tocsin's public interface) and their creation.

Topics are created up front with an explicit partition count: a broker that auto-creates
topics on first use picks its own count, and the incident table's changelog must match the
partitioning of the topic that feeds it.
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
        """Raw alert payloads as sent (one message may hold a whole webhook group)."""
        return f"{self.prefix}.alerts"

    @property
    def signals(self) -> str:
        """Normalized signals keyed by correlation key: the partition owns the incident."""
        return f"{self.prefix}.signals"

    @property
    def incidents(self) -> str:
        """Lifecycle events keyed by incident id."""
        return f"{self.prefix}.incidents"

    @property
    def dlq(self) -> str:
        """Rejected input, verbatim, with the reason in headers."""
        return f"{self.prefix}.dlq"

    def all(self) -> list[str]:
        return [self.alerts, self.signals, self.incidents, self.dlq]


async def ensure_topics(bootstrap_servers: str, names: list[str], partitions: int) -> None:
    """Create any of ``names`` that do not exist yet, with ``partitions`` partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, partitions, 1) for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently: %s", [t.name for t in missing])
    finally:
        await admin.close()
