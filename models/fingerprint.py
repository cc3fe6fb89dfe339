"""Alertmanager-compatible alert fingerprints.

An alert keeps one identity across Alertmanager and tocsin only if both hash its labels the
same way, so this mirrors Prometheus' ``model.LabelSet.Fingerprint``: FNV-1a 64 over the
label names in sorted order, each name and each value followed by the separator byte 0xFF,
rendered as 16 lowercase hex digits.
"""

from collections.abc import Mapping

FNV64_OFFSET = 14695981039346656037
FNV64_PRIME = 1099511628211
SEPARATOR = 0xFF
_MASK = 0xFFFFFFFFFFFFFFFF


def _fnv1a_update(h: int, data: bytes) -> int:
    for byte in data:
        h = ((h ^ byte) * FNV64_PRIME) & _MASK
    return h


def fingerprint(labels: Mapping[str, str]) -> str:
    """Return the Alertmanager fingerprint of a label set."""
    h = FNV64_OFFSET
    sep = bytes((SEPARATOR,))
    for name in sorted(labels):
        h = _fnv1a_update(h, name.encode("utf-8") + sep)
        h = _fnv1a_update(h, labels[name].encode("utf-8") + sep)
    return f"{h:016x}"
