"""Typed rejections: why an input was refused, as a stable machine-readable reason.

Parsers return these instead of raising, so a caller can route bad input to the
dead-letter topic with its reason and keep going.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class Reason(StrEnum):
    """Stable reason codes; they appear on the DLQ and in metrics, so never rename one."""

    TOO_LARGE = "too_large"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNSUPPORTED_VERSION = "unsupported_version"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    BAD_TIMESTAMP = "bad_timestamp"
    TOO_MANY_LABELS = "too_many_labels"
    LABEL_TOO_LONG = "label_too_long"
    TOO_MANY_ALERTS = "too_many_alerts"
    TOO_DEEP = "too_deep"
    UNSUPPORTED_TYPE = "unsupported_type"
    UNKNOWN_INCIDENT = "unknown_incident"
    INTERNAL_ERROR = "internal_error"
    NOT_DELIVERED = "not_delivered"  # a notification its channel refused, or kept failing past give_up


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused input (or one refused item of a batch input) and why."""

    reason: Reason
    detail: str
    index: int | None = None
    item: object = field(default=None, compare=False, repr=False)  # the refused item, as decoded

    def to_dict(self) -> dict:
        return {"reason": str(self.reason), "detail": self.detail, "index": self.index}


class RejectedInput(Exception):
    """Raised inside a parser to stop at the first fatal problem; never escapes it."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
