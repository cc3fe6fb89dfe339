"""The Grafana ClickHouse data source's SQL macros, expanded as the plugin documents them,
so dashboard queries can run on chDB exactly as Grafana would send them."""

import re
from datetime import UTC, datetime

MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")


def expand(sql: str, start_ms: int, end_ms: int, interval_s: int = 3600) -> str:
    """``sql`` with every ``$__macro`` replaced for the range ``start_ms``–``end_ms``."""
    start_s, end_s = start_ms // 1000, end_ms // 1000

    def day(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")

    def replace(match: re.Match) -> str:
        name, column = match.group(1), (match.group(2) or "").strip()
        expansions = {
            "timeFilter": f"{column} >= toDateTime({start_s}) AND {column} <= toDateTime({end_s})",
            "timeFilter_ms": (
                f"{column} >= fromUnixTimestamp64Milli({start_ms}) AND {column} <= fromUnixTimestamp64Milli({end_ms})"
            ),
            "dateFilter": f"{column} >= toDate('{day(start_ms)}') AND {column} <= toDate('{day(end_ms)}')",
            "timeInterval": f"toStartOfInterval(toDateTime({column}), INTERVAL {interval_s} second)",
            "fromTime": f"toDateTime({start_s})",
            "toTime": f"toDateTime({end_s})",
            "fromTime_ms": f"fromUnixTimestamp64Milli({start_ms})",
            "toTime_ms": f"fromUnixTimestamp64Milli({end_ms})",
            "interval_s": str(interval_s),
        }
        if name not in expansions:
            raise ValueError(f"macro $__{name} is not one the ClickHouse data source knows")
        return expansions[name]

    return MACRO.sub(replace, sql)
