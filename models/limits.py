"""Explicit input limits: what tocsin accepts before calling an input hostile.

Kept in one place so the HTTP cap, the parsers and the docs agree.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 1 << 20
    max_alerts: int = 1000
    max_labels: int = 64
    max_name_length: int = 256
    max_value_length: int = 4096
    max_annotation_length: int = 16384
    max_depth: int = 32


DEFAULT_LIMITS = Limits()
