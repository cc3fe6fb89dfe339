"""Alertmanager-compatible alert fingerprints.

An alert keeps one identity across Alertmanager and tocsin only if both hash its labels the
same way, so this mirrors Prometheus' ``model.LabelSet.Fingerprint``: FNV-1a 64 over the
label names in sorted order, each name and each value followed by the separator byte 0xFF,
rendered as 16 lowercase hex digits.
"""

from collections.abc import Mapping

import orjson

FNV64_OFFSET = 14695981039346656037
FNV64_PRIME = 1099511628211
SEPARATOR = 0xFF
_MASK = 0xFFFFFFFFFFFFFFFF


def _fnv1a_update(h: int, data: bytes) -> int:
    for byte in data:
        h = ((h ^ byte) * FNV64_PRIME) & _MASK
    return h


#: Label sets already hashed (as sent, in their order, as JSON: a third of the memory of a
#: tuple of pairs): Alertmanager re-sends the same alerts every group interval, and FNV-1a
#: byte by byte is the costliest step of a parse.
_KNOWN: dict[str, str] = {}
KNOWN_MAX = 200_000


def fingerprint(labels: Mapping[str, str]) -> str:
    """Return the Alertmanager fingerprint of a label set."""
    key = orjson.dumps(labels).decode()  # a str of exact size: orjson over-allocates its bytes
    found = _KNOWN.get(key)
    if found is None:
        if len(_KNOWN) >= KNOWN_MAX:
            _KNOWN.clear()
        found = _KNOWN[key] = _hash(labels)
    return found


def _hash(labels: Mapping[str, str]) -> str:
    h = FNV64_OFFSET
    sep = bytes((SEPARATOR,))
    for name in sorted(labels):
        h = _fnv1a_update(h, name.encode("utf-8") + sep)
        h = _fnv1a_update(h, labels[name].encode("utf-8") + sep)
    return f"{h:016x}"
