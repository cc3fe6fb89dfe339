"""Subprocess helpers: a worker's command line, a process's children, whether a pid runs."""

import os
import sys
from pathlib import Path


def worker_command(broker_url: str, data: Path, port: int, store: str, *options: str) -> list[str]:
    """``tocsin worker`` on ``broker_url`` with its chDB and state under ``data``, 2 partitions."""
    return [
        str(Path(sys.executable).parent / "tocsin"),
        "worker",
        "--broker",
        broker_url,
        "--clickhouse",
        f"chdb://{data / 'clickhouse'}",
        "--data-dir",
        str(data),
        "--store",
        store,
        "--partitions",
        "2",
        "--http-port",
        str(port),
        *options,
    ]


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(p) for p in text.split()]
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().split(")")[-1].split()[0] != "Z"
