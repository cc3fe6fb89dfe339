"""From parsed inputs to ``tocsin.signals`` records: one per partition, size-bounded.

Shared by the HTTP edge (which writes engine-ready inputs straight to the signals topic)
and the ingest agents (for records producers wrote to the input topics), so both route,
split and refuse in exactly the same way. A key token's partition is the one Kafka's
default partitioner gives its JSON-encoded token (what the table's changelog uses too), so
every input of a key, and its state, live on one partition whoever wrote them.
"""

import faust
from aiokafka.partitioner import DefaultPartitioner

from models.command import Command
from models.engine import correlation_key, routing_key
from models.errors import Reason, Rejection
from models.parsers.result import Input
from models.policy import Policy
from streams.codec import MAX_RECORD_BYTES, Group, encode_records
from streams.produce import produce

_PARTITIONER = DefaultPartitioner()
_PARTITIONS: dict[tuple[str, int], int] = {}


def partition_of(token: str, partitions: int) -> int:
    """The signals-topic partition of ``token`` (murmur2 of its JSON bytes), memoised."""
    found = _PARTITIONS.get((token, partitions))
    if found is None:
        every = list(range(partitions))
        found = _PARTITIONER(f'"{token}"'.encode(), every, every)
        if len(_PARTITIONS) > 100_000:
            _PARTITIONS.clear()
        _PARTITIONS[(token, partitions)] = found
    return found


def by_partition(inputs: list[Input], policy: Policy, partitions: int) -> dict[int, list[Group]]:
    """Inputs grouped by key token (with the correlation key it stands for), per partition."""
    grouped: dict[str, tuple[str, list[Input]]] = {}
    for item in inputs:
        token = routing_key(item, policy)
        group = grouped.get(token)
        if group is None:
            key = "" if isinstance(item, Command) else correlation_key(item, policy)
            group = grouped[token] = (key, [])
        group[1].append(item)
    placed: dict[int, list[Group]] = {}
    for token, (key, items) in grouped.items():
        placed.setdefault(partition_of(token, partitions), []).append(Group(token, key, items))
    return placed


#: What one source record (or HTTP request) yields: its inputs, arrival time and trace id.
Source = tuple[list[Input], int, str]


def batch_records(
    sources: list[Source], policy: Policy, partitions: int, max_bytes: int = MAX_RECORD_BYTES
) -> tuple[list[tuple[int, bytes]], list[Input]]:
    """(partition, value) records for the inputs of many sources — one per partition while
    they fit — and the inputs too big for any record. Each group keeps its source's arrival
    time and trace id, and the sources' order within a partition."""
    placed: dict[int, list[Group]] = {}
    for inputs, now, trace in sources:
        for partition, groups in by_partition(inputs, policy, partitions).items():
            placed.setdefault(partition, []).extend(g._replace(now=now, trace=trace) for g in groups)
    records: list[tuple[int, bytes]] = []
    too_big: list[Input] = []
    for partition, groups in sorted(placed.items()):
        values, big = encode_records(groups[0].now, groups, max_bytes)
        records += [(partition, value) for value in values]
        too_big += big
    return records, too_big


def too_large(item: Input, max_bytes: int = MAX_RECORD_BYTES) -> Rejection:
    return Rejection(Reason.TOO_LARGE, f"one input over {max_bytes} bytes", item=item.to_dict())


def signal_records(
    inputs: list[Input], now: int, policy: Policy, partitions: int, max_bytes: int = MAX_RECORD_BYTES
) -> tuple[list[tuple[int, bytes]], list[Rejection]]:
    """(partition, value) records for one request's ``inputs``, and a rejection for any input
    too big to carry."""
    records, too_big = batch_records([(inputs, now, "")], policy, partitions, max_bytes)
    return records, [too_large(item, max_bytes) for item in too_big]


async def send_all(topic: faust.TopicT, records: list[tuple[int, bytes]], headers: list[tuple[str, bytes]]) -> list:
    """Hand every record to the producer first, then await all acknowledgements once."""
    return await produce(topic, [(None, value, partition, headers) for partition, value in records])
