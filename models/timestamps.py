"""RFC 3339 timestamps as integer milliseconds since the Unix epoch (UTC).

Integers keep the core deterministic and cheap to compare; monitors send nanosecond
fractions (Go's ``time.Time``) and others ISO 8601 offsets without a colon (``+0000``),
which ``datetime.fromisoformat`` would reject, so both are normalised first. Values outside
``MIN_MS``..``MAX_MS`` are refused: a clock set to 1970 or 2999 is an input error, not an
incident time.
"""

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

MIN_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_MS = 7_258_118_400_000  # 2200-01-01T00:00:00Z
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)$")


class TimestampError(ValueError):
    """A timestamp that is malformed or outside the accepted range."""


@lru_cache(maxsize=65_536)
def parse_ms(text: str) -> int:
    """Parse an RFC 3339 timestamp into epoch milliseconds, enforcing sane bounds.

    Remembered: re-sent alerts repeat their ``startsAt``.
    """
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if match is None:
        raise TimestampError(f"not an RFC 3339 timestamp: {str(text)[:64]!r}")
    date, clock, fraction, zone = match.groups()
    micros = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else _colon_offset(zone)
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}.{micros}{zone}")
    except ValueError as exc:
        raise TimestampError(f"invalid timestamp {text!r}: {exc}") from None
    ms = (moment - _EPOCH) // _ONE_MS
    if not MIN_MS <= ms <= MAX_MS:
        raise TimestampError(f"timestamp out of range: {text!r}")
    return ms


def _colon_offset(zone: str) -> str:
    """ISO 8601 offsets ``+0000`` and ``+00`` (PagerDuty sends them) as ``+00:00``."""
    digits = zone[1:].replace(":", "").ljust(4, "0")
    return f"{zone[0]}{digits[:2]}:{digits[2:]}"


@lru_cache(maxsize=65_536)
def format_ms(ms: int) -> str:
    """Render epoch milliseconds as RFC 3339 with millisecond precision.

    Remembered: a batch's events and signal-log rows repeat a few arrival and event times."""
    return _format_second(ms // 1000) + f"{ms % 1000:03d}Z"


@lru_cache(maxsize=4096)
def _format_second(second: int) -> str:
    """The date and time part, once per second: a hot path formats many stamps of the same second."""
    return datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
