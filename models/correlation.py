"""Correlation keys: which incident a signal belongs to.

Everything that can land in one incident must share a key, because the key decides the
partition that owns the incident's state. Default: the ``service`` label, else ``job``,
else ``alertname`` (the order SREs label by), else ``unknown``.
"""

from collections.abc import Mapping

DEFAULT_KEY_LABELS: tuple[str, ...] = ("service", "job", "alertname")
UNKNOWN_SERVICE = "unknown"


def service_of(labels: Mapping[str, str], key_labels: tuple[str, ...] = DEFAULT_KEY_LABELS) -> str:
    """Return the service a label set names, by the first non-empty key label."""
    for name in key_labels:
        value = labels.get(name)
        if value:
            return value
    return UNKNOWN_SERVICE
