"""Injected ClickHouse outages, and this process's memory.

chDB runs inside the test process and cannot be stopped on its own, so an outage is
simulated: a proxy in front of the real client refuses every insert with the driver's own
``OperationalError`` while ``down`` is set. Everything else is real.
"""

from pathlib import Path

from clickhouse_connect.driver.exceptions import OperationalError


class OutageProxy:
    """The real client, except that inserts fail while ``down`` is set."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.down = False

    def raw_insert(self, *args: object, **kwargs: object) -> object:
        if self.down:
            raise OperationalError("simulated outage: connection refused")
        return self.client.raw_insert(*args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self.client, name)


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")
