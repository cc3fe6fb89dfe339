"""The engine's state on local disk (the RocksDB store) against a broker that lost its own.

Faust's RocksDB store keeps each key's state under ``--data-dir`` and records how far into
the changelog topic it has applied. When the broker no longer has that changelog — always
after ``tocsin up`` restarts (its embedded broker keeps topics in memory), or when a worker
meets a new cluster or an expired retention — the recorded offset is past the topic's end.

- ``tocsin up``: the broker is new by construction, so the local state is adopted: the
  recorded offsets are dropped, the state kept, and the engine resumes with every
  incident, acknowledgement, role, timer and dedup memory it had.
- ``tocsin worker``: the same situation is detected before start and refused with an
  explanation, unless ``TOCSIN_ADOPT_LOCAL_STATE`` says to adopt (never silent amnesia,
  never a silent merge with a cluster that moved on).

A worker that died (SIGKILL, OOM, a crash) may leave the local store *ahead* of the
changelog: Faust writes RocksDB at once and the changelog record later, so the records in
flight at the kill exist only on this disk. Keeping them would hide from the changelog —
and so from every other worker that later owns the partition — state this worker never
published there. A marker file in the tables directory is present while the engine runs
and removed by a clean stop; found at start, it means the previous run did not stop
cleanly, and ``tocsin worker`` rebuilds its partitions from the changelog (what Kafka
Streams does without its checkpoint file). ``tocsin up`` cannot (its broker is new) and
keeps the local state.
"""

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aiokafka import TopicPartition
from rocksdict import Options, Rdict

from streams.end_offsets import EndOffsets

log = logging.getLogger(__name__)

#: Where Faust's RocksDB store records its changelog offset (faust/stores/rocksdb.py).
OFFSET_KEY = b"__faust\0offset__"
#: Present while an engine runs on the tables directory; a clean stop removes it.
RUNNING = "tocsin-engine.running"


@dataclass(frozen=True)
class PartitionState:
    path: Path
    partition: int
    offset: int | None  # changelog offset the store applied; None: never recorded


def _partition_of(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def local_partitions(tables_dir: Path, table: str) -> list[PartitionState]:
    """Every partition database of ``table`` under ``tables_dir``, with its recorded offset."""
    found = []
    for path in sorted(tables_dir.glob(f"{table}-*.db")):
        db = Rdict(str(path), options=Options(raw_mode=True))
        try:
            raw = db.get(OFFSET_KEY)
        finally:
            db.close()
        found.append(PartitionState(path, _partition_of(path), int(raw) if raw is not None else None))
    return found


def adopt(partitions: list[PartitionState]) -> int:
    """Forget the recorded changelog offsets (the broker is new); the state stays. Returns how many."""
    adopted = 0
    for part in partitions:
        if part.offset is None:
            continue
        db = Rdict(str(part.path), options=Options(raw_mode=True))
        try:
            db.delete(OFFSET_KEY)
        finally:
            db.close()
        adopted += 1
    return adopted


async def lost_partitions(bootstrap: str, changelog: str, partitions: list[PartitionState]) -> list[PartitionState]:
    """Local partitions whose recorded offset is past the end of the broker's changelog."""
    recorded = [p for p in partitions if p.offset is not None]
    if not recorded:
        return []
    async with EndOffsets(bootstrap) as end_offsets:
        ends = await end_offsets.of([TopicPartition(changelog, p.partition) for p in recorded])
    return [p for p in recorded if p.offset >= ends.get(TopicPartition(changelog, p.partition), 0)]


def explain(lost: list[PartitionState], changelog: str) -> str:
    where = ", ".join(f"{p.partition} (local offset {p.offset})" for p in lost)
    return (
        f"the broker's {changelog} ends before what the local state store applied, on partition(s) {where}: "
        "the broker lost tocsin's state topics (a new cluster, or retention expired). Starting would "
        "replace known incidents with an empty state or mix two histories. Set TOCSIN_ADOPT_LOCAL_STATE=1 "
        "to keep the local state (it becomes the state of record), or remove "
        f"{lost[0].path.parent} to start empty."
    )


def stopped_uncleanly(tables_dir: Path) -> bool:
    """Whether the last engine on ``tables_dir`` died without a clean stop."""
    return (tables_dir / RUNNING).exists()


def mark_running(tables_dir: Path) -> None:
    tables_dir.mkdir(parents=True, exist_ok=True)
    (tables_dir / RUNNING).write_text(f"{os.getpid()}\n")


def mark_stopped(tables_dir: Path) -> None:
    (tables_dir / RUNNING).unlink(missing_ok=True)


def rebuild(partitions: list[PartitionState]) -> int:
    """Delete the local partition stores: Faust restores them whole from the changelog."""
    for part in partitions:
        shutil.rmtree(part.path)
    return len(partitions)
