"""Roles: which parts of tocsin one process runs, so a deployment scales each on its own.

- ``ingest``: agents turning Kafka-direct input (``alerts``, ``checks``, ``reports``,
  ``commands``) into engine input. Any number of processes.
- ``engine``: the incident engine, its state table and timers, and
  ``GET /v1/incidents/{id}/state``. Any number: they share the partitions.
- ``sink``: the ClickHouse writers (``incident_events``, ``signals``). Any number on a
  ClickHouse server; one process on chDB, which one process at a time may open.
- ``api``: HTTP input and commands, incident reads from ClickHouse. Any number on a
  ClickHouse server; with chDB, only in the ``sink`` process.
- ``notify``: pages and announcements over HTTP (``streams/agents/notify.py``), from
  ``tocsin.incidents``. Any number. Runs by default when the policy names channels.

Every process serves `/healthz`, `/readyz` and `/metrics`. All processes of one deployment
share one consumer group (the app id): Faust hands each topic's partitions to the members
that consume it, whatever else they run.
"""

from streams.topics import TopicNames

INGEST, ENGINE, SINK, API, NOTIFY = "ingest", "engine", "sink", "api", "notify"
ALL = (INGEST, ENGINE, SINK, API, NOTIFY)
#: Without ``--roles``: everything, ``notify`` only when the policy has channels.
DEFAULT = (INGEST, ENGINE, SINK, API)
#: Roles that open ClickHouse: with chDB (one process per directory) they share one process.
CLICKHOUSE_ROLES = frozenset({SINK, API})


def parse_roles(text: str) -> frozenset[str]:
    """``"ingest,engine"`` → the set; ``ValueError`` naming what is unknown or missing."""
    roles = frozenset(part.strip() for part in text.split(",") if part.strip())
    if not roles:
        raise ValueError(f"no role given; choose from {', '.join(ALL)}")
    unknown = roles - set(ALL)
    if unknown:
        raise ValueError(f"unknown role {', '.join(sorted(unknown))}; choose from {', '.join(ALL)}")
    return roles


def consumed_topics(roles: frozenset[str], names: TopicNames) -> set[str]:
    """The pipeline topics a process with ``roles`` reads: what it drains and guards."""
    topics: set[str] = set()
    if INGEST in roles:
        topics.update(names.inputs)
    if ENGINE in roles:
        topics.add(names.signals)
    if SINK in roles:
        topics.update({names.event_log, names.signal_log})
    if NOTIFY in roles:
        topics.update({names.incidents, names.notify_retry})
    return topics
