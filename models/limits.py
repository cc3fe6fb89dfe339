"""Explicit input limits: what tocsin accepts before calling an input hostile.

Kept in one place so the HTTP cap, the parsers and the docs agree.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    # Alertmanager's webhook has no size limit: a 5,000-alert group is ~2.8 MB. 16 MiB takes
    # groups of ~30,000 alerts; HTTP bodies and records written to input topics share it.
    max_payload_bytes: int = 16 << 20
    max_alerts: int = 100_000
    max_labels: int = 64
    max_name_length: int = 256
    max_value_length: int = 4096
    max_annotation_length: int = 16384
    max_depth: int = 32


DEFAULT_LIMITS = Limits()
