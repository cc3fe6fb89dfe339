"""Human durations in policy files ("90s", "15m", "4h", "7d", "1h30m") as milliseconds."""

import re

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration(value: str | int | float) -> int:
    """Milliseconds from a duration string, or from a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return int(value * 1000)
    text = str(value).strip()
    if text in ("0", ""):
        return 0
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 4h, 7d)")
    return sum(int(n) * _UNIT_MS[u] for n, u in parts)
