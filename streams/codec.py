"""Engine inputs on the internal ``tocsin.signals`` topic: tagged JSON, many per message.

One message carries inputs of one source record (or HTTP request) for one correlation key,
plus their arrival time, so the correlate agent sees exactly what the edge parsed, and a
replay sees exactly what the live run saw. A key's inputs are split across as many
messages as it takes to keep each under ``MAX_RECORD_BYTES`` (a Kafka record limit), so a
5,000-alert webhook is a handful of records, never one oversized one.
"""

from typing import Any

import orjson

from models.check import CheckResult
from models.command import Command
from models.parsers.result import Input
from models.report import UserReport
from models.signal import Signal, SignalAck

_TYPES: dict[str, Any] = {
    "signal": Signal,
    "ack": SignalAck,
    "check": CheckResult,
    "report": UserReport,
    "command": Command,
}
_TAGS = {cls: tag for tag, cls in _TYPES.items()}

TICK = "tick"
MAX_RECORD_BYTES = 900_000  # Kafka's default message.max.bytes is 1,048,588


def encode_item(item: Input) -> bytes:
    """``[tag, fields]``: orjson writes the dataclass natively (what ``to_dict`` gives, 10× faster)."""
    return orjson.dumps([_TAGS[type(item)], item])


def encode_batch(key: str, now: int, items: list[Input]) -> bytes:
    return _record(key, now, [encode_item(i) for i in items])


def _record(key: str, now: int, encoded: list[bytes]) -> bytes:
    head = b'{"key":' + orjson.dumps(key) + b',"now":' + str(int(now)).encode() + b',"items":['
    return head + b",".join(encoded) + b"]}"


def encode_records(
    key: str, now: int, items: list[Input], max_bytes: int = MAX_RECORD_BYTES
) -> tuple[list[bytes], list[Input]]:
    """``items`` as records of at most ``max_bytes``, and the items too big for any record."""
    overhead = len(_record(key, now, []))
    records: list[bytes] = []
    too_big: list[Input] = []
    chunk: list[bytes] = []
    size = overhead
    for item in items:
        encoded = encode_item(item)
        if overhead + len(encoded) > max_bytes:
            too_big.append(item)
            continue
        if chunk and size + len(encoded) + 1 > max_bytes:
            records.append(_record(key, now, chunk))
            chunk, size = [], overhead
        chunk.append(encoded)
        size += len(encoded) + 1
    if chunk:
        records.append(_record(key, now, chunk))
    return records, too_big


def encode_tick(now: int) -> bytes:
    return orjson.dumps({"type": TICK, "now": now})


def decode(raw: bytes) -> dict:
    """``{"key", "now", "items": [Input, …]}`` or ``{"type": "tick", "now"}``."""
    message = orjson.loads(raw)
    if message.get("type") == TICK:
        return message
    message["items"] = [_decode_item(tag, data) for tag, data in message["items"]]
    return message


def _decode_item(tag: str, data: dict) -> Input:
    return _TYPES[tag].from_dict(data)
