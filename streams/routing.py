"""From parsed inputs to ``tocsin.signals`` records: grouped by key token, size-bounded.

Shared by the HTTP edge (which writes engine-ready inputs straight to the signals topic)
and the ingest agents (for records producers wrote to the input topics), so both route,
split and refuse in exactly the same way.
"""

import faust

from models.command import Command
from models.engine import correlation_key, routing_key
from models.errors import Reason, Rejection
from models.parsers.result import Input
from models.policy import Policy
from streams.codec import MAX_RECORD_BYTES, encode_records


def by_token(inputs: list[Input], policy: Policy) -> dict[str, tuple[str, list[Input]]]:
    """Inputs grouped by partition token, with the correlation key each token stands for."""
    grouped: dict[str, tuple[str, list[Input]]] = {}
    for item in inputs:
        key = "" if isinstance(item, Command) else correlation_key(item, policy)
        grouped.setdefault(routing_key(item, policy), (key, []))[1].append(item)
    return grouped


def signal_records(
    inputs: list[Input], now: int, policy: Policy, max_bytes: int = MAX_RECORD_BYTES
) -> tuple[list[tuple[str, bytes]], list[Rejection]]:
    """(token, value) records for ``inputs``, and a rejection for any input too big to carry."""
    records: list[tuple[str, bytes]] = []
    refused: list[Rejection] = []
    for token, (key, items) in by_token(inputs, policy).items():
        values, too_big = encode_records(key, now, items, max_bytes)
        records += [(token, value) for value in values]
        refused += [Rejection(Reason.TOO_LARGE, f"one input over {max_bytes} bytes", item=i.to_dict()) for i in too_big]
    return records, refused


async def send_all(topic: faust.TopicT, records: list[tuple[str, bytes]], headers: list[tuple[str, bytes]]) -> list:
    """Hand every record to the producer first, then await all acknowledgements once."""
    futures = [await topic.send(key=token, value=value, headers=headers) for token, value in records]
    return [await future for future in futures]
