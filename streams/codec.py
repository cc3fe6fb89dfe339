"""Engine inputs on the internal ``tocsin.signals`` topic: tagged JSON, many per message.

A message carries the inputs of one HTTP request (or one ingest batch of source records)
that belong to one partition, grouped by key token, plus their arrival time: the correlate
agent sees exactly what the edge parsed, and a replay sees exactly what the live run saw.
One message per request and partition (not per key or per source record) keeps the record
count — what a Kafka hop costs per message — independent of how many services a webhook of
1,000 alerts spans or how small the producers' records are. A message
stays under ``MAX_RECORD_BYTES`` (a Kafka record limit); a key's inputs may be split over
several, so a 5,000-alert webhook is a handful of records, never one oversized one.

    {"now": 1733011200000, "groups": [{"token": "svc-a", "key": "svc-a", "items": [[tag, {...}], ...]}, ...]}

A group may carry its own ``now`` and ``trace`` (the source record's arrival time and trace
id) when an ingest agent merged several source records into one.

Records of the earlier one-key layout (``{"key", "now", "items"}``, the key token as the
record key) are still read, so a rolling upgrade drains them.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple

import msgspec
import orjson

from models.change import Change
from models.check import CheckResult
from models.command import Command
from models.parsers.result import Input
from models.report import UserReport
from models.signal import Signal, SignalAck
from models.silence import Silence

_TYPES: dict[str, Any] = {
    "signal": Signal,
    "ack": SignalAck,
    "check": CheckResult,
    "report": UserReport,
    "command": Command,
    "change": Change,
    "silence": Silence,
}
_TAGS = {cls: tag for tag, cls in _TYPES.items()}

TICK = "tick"
MAX_RECORD_BYTES = 900_000  # Kafka's default message.max.bytes is 1,048,588


class Group(NamedTuple):
    """The inputs of one key token, with the correlation key it stands for.

    ``now`` and ``trace`` are the arrival time and trace id of the source record the inputs
    came from, when they differ from the record's (an ingest batch merges many source
    records into one per partition); 0 and "" mean the record's own.
    """

    token: str
    key: str
    items: list[Input]
    now: int = 0
    trace: str = ""


_ENCODER = msgspec.json.Encoder()


def encode_item(item: Input) -> bytes:
    """``[tag, fields]``, the dataclass written natively: the bytes orjson writes (earlier
    records and signal-log payloads are alike), in a quarter of its time for these classes."""
    return _ENCODER.encode((_TAGS[type(item)], item))


def _head(group: Group, now: int) -> bytes:
    """A group's JSON up to its items (its ``now`` only where it differs from the record's)."""
    head = b'{"token":' + orjson.dumps(group.token) + b',"key":' + orjson.dumps(group.key)
    if group.now and group.now != now:
        head += b',"now":' + str(int(group.now)).encode()
    if group.trace:
        head += b',"trace":' + orjson.dumps(group.trace)
    return head + b',"items":['


def _record(now: int, groups: list[bytes]) -> bytes:
    return b'{"now":' + str(int(now)).encode() + b',"groups":[' + b",".join(groups) + b"]}"


class _Records:
    """Accumulates encoded groups into records of at most ``max_bytes``."""

    def __init__(self, now: int, max_bytes: int) -> None:
        self.now, self.max_bytes = now, max_bytes
        self.overhead = len(_record(now, []))
        self.done: list[bytes] = []
        self.groups: list[bytes] = []
        self.size = self.overhead

    def add(self, head: bytes, encoded: list[bytes]) -> None:
        """Place one key's encoded items, opening new records (and parts) as they fill."""
        group_overhead = len(head) + 3
        part: list[bytes] = []
        part_size = group_overhead
        for item in encoded:
            if part and self.size + part_size + len(item) + 1 > self.max_bytes:
                self._close_part(head, part)
                self.flush()
                part, part_size = [], group_overhead
            elif not part and self.size + group_overhead + len(item) > self.max_bytes:
                self.flush()
            part.append(item)
            part_size += len(item) + 1
        if part:
            self._close_part(head, part)

    def _close_part(self, head: bytes, part: list[bytes]) -> None:
        group = head + b",".join(part) + b"]}"
        self.groups.append(group)
        self.size += len(group) + 1

    def flush(self) -> None:
        if self.groups:
            self.done.append(_record(self.now, self.groups))
        self.groups, self.size = [], self.overhead


def encode_records(
    now: int, groups: Iterable[Group], max_bytes: int = MAX_RECORD_BYTES
) -> tuple[list[bytes], list[Input]]:
    """``groups`` (of one partition) as records of at most ``max_bytes``, and the inputs too
    big for any record."""
    records = _Records(now, max_bytes)
    too_big: list[Input] = []
    for group in groups:
        head = _head(group, now)
        limit = max_bytes - records.overhead - len(head) - 3
        encoded = []
        for item in group.items:
            data = encode_item(item)
            if len(data) > limit:
                too_big.append(item)
            else:
                encoded.append(data)
        records.add(head, encoded)
    records.flush()
    return records.done, too_big


def encode_silence(silence: Silence) -> bytes:
    """A silence as one keyless group, sent to every partition (``streams.silence_book``) so
    each applies it in order with its inputs; its ``now`` is when it was made or changed."""
    head = _head(Group("", "", []), silence.updated_at)
    return _record(silence.updated_at, [head + encode_item(silence) + b"]}"])


def encode_tick(now: int) -> bytes:
    return orjson.dumps({"type": TICK, "now": now})


class _Group(msgspec.Struct):
    token: str
    key: str
    items: list[tuple[str, msgspec.Raw]]
    now: int = 0
    trace: str = ""


class _Message(msgspec.Struct):
    """Either layout, or a tick: fields of the others stay at their defaults."""

    now: int
    type: str = ""
    groups: list[_Group] = []
    key: str = ""
    items: list[tuple[str, msgspec.Raw]] = []


_MESSAGE = msgspec.json.Decoder(_Message)
#: Typed decoders build the input dataclasses directly, checking every field's type (C code).
_DECODERS = {tag: msgspec.json.Decoder(cls) for tag, cls in _TYPES.items()}


_ITEM = msgspec.json.Decoder(tuple[str, msgspec.Raw])


def decode_item(raw: bytes | str) -> Input:
    """The input ``encode_item`` wrote (the signal log's ``payload``)."""
    tag, fields = _ITEM.decode(raw)
    return _DECODERS[tag].decode(fields)


def _inputs(items: list[tuple[str, msgspec.Raw]]) -> list[Input]:
    return [_DECODERS[tag].decode(raw) for tag, raw in items]


def decode(raw: bytes, record_key: str | None = None) -> dict:
    """``{"now", "groups": [Group, …]}`` (each group's ``now`` filled in) or ``{"type": "tick", "now"}``.

    ``record_key`` (the record's key token) is only read for records of the one-key layout.
    Raises ``msgspec.DecodeError`` (a ``ValueError``) on anything else.
    """
    message = _MESSAGE.decode(raw)
    if message.type == TICK:
        return {"type": TICK, "now": message.now}
    if message.groups:
        groups = [Group(g.token, g.key, _inputs(g.items), g.now or message.now, g.trace) for g in message.groups]
    else:
        groups = [Group(record_key or "", message.key, _inputs(message.items), message.now)]
    return {"now": message.now, "groups": groups}
