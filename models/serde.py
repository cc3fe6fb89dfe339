"""Dataclass ⇄ plain-JSON conversion for engine state, driven by type hints.

State lives in a Faust table as JSON; this keeps the round trip lossless without a
hand-written ``from_dict`` per class.
"""

import dataclasses
import enum
import types
import typing
from functools import cache
from typing import Any


def to_plain(value: Any) -> Any:
    """Dataclasses, enums, dicts and lists → JSON-ready values."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_plain(cls: Any, data: Any) -> Any:
    """Rebuild a value of type ``cls`` from what ``to_plain`` produced."""
    if data is None:
        return None
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(cls) if a is not type(None)]
        return from_plain(options[0], data)
    if origin is dict:
        _, value_type = typing.get_args(cls)
        return {k: from_plain(value_type, v) for k, v in data.items()}
    if origin is list:
        (item_type,) = typing.get_args(cls)
        return [from_plain(item_type, v) for v in data]
    if dataclasses.is_dataclass(cls):
        hints = _hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: from_plain(hints[k], v) for k, v in data.items() if k in names})
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return cls(data)
    return data
