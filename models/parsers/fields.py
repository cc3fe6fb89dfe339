"""Field readers shared by the parsers: each returns a typed value or raises
``RejectedInput`` with the reason, which the parser turns into a ``Rejection``."""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import orjson

from models.errors import Reason, RejectedInput, Rejection
from models.limits import Limits
from models.parsers.result import Parsed
from models.timestamps import GO_ZERO_TIME, TimestampError, parse_ms

#: No identity fields configured for any source (``dedup.fields`` empty).
NO_DEDUP: Mapping[str, tuple[str, ...]] = MappingProxyType({})


def decode_json(raw: bytes, limits: Limits) -> Any:
    """Decode JSON bytes within the size and nesting limits."""
    if len(raw) > limits.max_payload_bytes:
        raise RejectedInput(Reason.TOO_LARGE, f"{len(raw)} bytes > {limits.max_payload_bytes}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedInput(Reason.INVALID_UTF8, str(exc)) from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RejectedInput(Reason.INVALID_JSON, str(exc)) from None
    if _depth(data, limits.max_depth) > limits.max_depth:
        raise RejectedInput(Reason.TOO_DEEP, f"nesting deeper than {limits.max_depth}")
    return data


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of ``value`` (a scalar is 1, ``{"a": 1}`` is 2), counted until it passes
    ``limit``. Only containers are visited: a payload of flat objects costs one type check
    per field."""
    deepest, stack = 1, [(value, 1)]
    while stack and deepest <= limit:
        item, level = stack.pop()
        if not isinstance(item, dict | list) or not item:
            continue
        deepest = max(deepest, level + 1)
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return deepest


def require_object(value: Any, name: str = "body") -> dict:
    if not isinstance(value, dict):
        raise RejectedInput(Reason.NOT_AN_OBJECT, f"{name} is {type(value).__name__}, not an object")
    return value


def text(data: Mapping, name: str, limits: Limits, *, required: bool = True, default: str = "") -> str:
    """A string field, bounded in length; missing → ``default`` unless required."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise RejectedInput(Reason.MISSING_FIELD, name)
        return default
    if not isinstance(value, str):
        raise RejectedInput(Reason.WRONG_TYPE, f"{name} must be a string")
    if len(value) > limits.max_annotation_length:
        raise RejectedInput(Reason.LABEL_TOO_LONG, name)
    return value


def choice(data: Mapping, name: str, allowed: Callable[[str], Any], *, default: str | None = None) -> Any:
    """A string field that must be one of an enum's values."""
    value = data.get(name, default)
    if value is None:
        raise RejectedInput(Reason.MISSING_FIELD, name)
    try:
        return allowed(str(value).lower() if isinstance(value, str) else value)
    except ValueError:
        raise RejectedInput(Reason.INVALID_VALUE, f"{name}={value!r}") from None


def timestamp(data: Mapping, name: str, *, required: bool, default: int = 0) -> int:
    """An RFC 3339 time field as epoch ms; Go's zero time counts as absent."""
    value = data.get(name)
    if value in (None, "", GO_ZERO_TIME):
        if required:
            raise RejectedInput(Reason.MISSING_FIELD, name)
        return default
    if not isinstance(value, str):
        raise RejectedInput(Reason.WRONG_TYPE, f"{name} must be an RFC 3339 string")
    try:
        return parse_ms(value)
    except TimestampError as exc:
        raise RejectedInput(Reason.BAD_TIMESTAMP, f"{name}: {exc}") from None


def string_map(value: Any, name: str, limits: Limits, max_value: int, *, required: bool = False) -> dict[str, str]:
    """A ``{str: str}`` map within label limits; empty values are dropped (Prometheus semantics)."""
    if value is None and not required:
        return {}
    if type(value) is not dict and not isinstance(value, Mapping):  # the exact type first: ABCs are slow
        raise RejectedInput(Reason.WRONG_TYPE if value is not None else Reason.MISSING_FIELD, name)
    if len(value) > limits.max_labels:
        raise RejectedInput(Reason.TOO_MANY_LABELS, f"{name}: {len(value)} > {limits.max_labels}")
    max_name = limits.max_name_length
    for key, item in value.items():
        if not isinstance(item, str):
            raise RejectedInput(Reason.WRONG_TYPE, f"{name}.{key} must be a string")
        if len(key) > max_name or len(item) > max_value:
            raise RejectedInput(Reason.LABEL_TOO_LONG, f"{name}.{key[:64]}")
    if isinstance(value, dict) and all(value.values()):
        return value  # decoded JSON, read-only from here: no copy needed
    return {key: item for key, item in value.items() if item}


def each(items: list, read: Callable[[Any], Any], limits: Limits) -> Parsed:
    """Read every item of a batch; a bad item is rejected alone, with its index."""
    if not items:
        return Parsed.rejected(Rejection(Reason.MISSING_FIELD, "no items in the batch"))
    if len(items) > limits.max_alerts:
        return Parsed.rejected(Rejection(Reason.TOO_MANY_ALERTS, f"{len(items)} > {limits.max_alerts}"))
    parsed = Parsed()
    for index, item in enumerate(items):
        try:
            parsed.inputs.append(read(item))
        except RejectedInput as exc:
            parsed.rejections.append(Rejection(exc.reason, exc.detail, index, item))
    return parsed


def guarded(parse: Callable[[], Parsed]) -> Parsed:
    """Run a parser body, turning a fatal ``RejectedInput`` into a whole-input rejection."""
    try:
        return parse()
    except RejectedInput as exc:
        return Parsed.rejected(Rejection(exc.reason, exc.detail))
