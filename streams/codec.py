"""Engine inputs on the internal ``tocsin.signals`` topic: tagged JSON, many per message.

One message carries every input of one source record for one correlation key, plus the
source record's arrival time, so the correlate agent sees exactly what the ingest agent
parsed, and a replay sees exactly what the live run saw.
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


def encode_batch(key: str, now: int, items: list[Input]) -> bytes:
    return orjson.dumps({"key": key, "now": now, "items": [[_TAGS[type(i)], i.to_dict()] for i in items]})


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
