"""Stall guard: re-reads a partition whose fetched messages were dropped and never processed.

A safety net behind ``streams/transport.py``, which fetches again whatever faust-streaming
breaks off around a rebalance (the cause of every stall seen so far). Should messages
still be skipped — their offsets never acknowledged, so nothing is lost, the commit stays
behind them — the partition would stop making progress until a restart.

The guard notices a partition with messages past its committed offset, none being
processed and the next one to commit not acknowledged, whose commit and read offset do not
move across two checks (a sink waiting out a ClickHouse outage holds its input back on
purpose and is left alone), and seeks it back to the committed offset: the skipped messages are processed, and
anything processed twice is a no-op downstream (idempotent engine, content-derived event
ids, deduplicating sink). Faust commits every few seconds, so a healthy busy partition's
commit always moves between checks.
"""

import logging
import os
from collections.abc import Callable

import faust
from prometheus_client import Counter

from streams import stall_diagnosis

log = logging.getLogger(__name__)

#: Re-reads of one partition without progress before the worker gives up and exits.
MAX_REREADS = 3
#: Exit status for "restart me": EX_TEMPFAIL.
EXIT_STUCK = 75

STALLS = Counter("tocsin_stalled_partitions_total", "Partitions re-read after their processing stalled.", ["topic"])


class StallGuard:
    def __init__(
        self, app: faust.App, topics: set[str], waiting: Callable[[str], bool], exit_when_stuck: bool = False
    ) -> None:
        self.app = app
        self.topics = topics
        self.exit_when_stuck = exit_when_stuck
        self.attempts: dict[tuple[object, int], int] = {}
        self.waiting = waiting  # topic → whether its consumer holds back on purpose (a sink in retry)
        self.suspects: dict[object, tuple[int, int | None]] = {}

    async def stalled(self) -> list[tuple[object, int]]:
        """Partitions with work waiting whose commit did not move for two checks in a row."""
        consumer = self.app.consumer
        if not self.app.flow_control.is_active() or self.app.rebalancing:
            self.suspects.clear()
            return []
        owned = [tp for tp in consumer.assignment() if tp.topic in self.topics and not self.waiting(tp.topic)]
        ends = await consumer.highwaters(*owned) if owned else {}
        in_flight = {m.tp for m in list(consumer._unacked_messages)}
        behind = {}
        for tp in owned:
            committed = consumer._committed_offset.get(tp) or 0
            # Busy, not stuck, while a message is being processed or the next one to commit is
            # acknowledged (the commit will move); an acknowledged message past a missing one
            # does not count: that gap is the stall.
            busy = tp in in_flight or committed in consumer._acked_index.get(tp, ())
            if (ends.get(tp) or 0) > committed and not busy:
                behind[tp] = (committed, consumer._read_offset.get(tp))
        stalled = [(tp, position[0]) for tp, position in behind.items() if self.suspects.get(tp) == position]
        self.suspects = behind
        return stalled

    def give_up(self, tp: object, offset: int) -> None:
        """Exit so the supervisor restarts the worker: a restart always resumes a partition.

        Uncommitted input is re-read after the restart (at-least-once, idempotent downstream),
        so exiting here loses nothing; staying up would leave the partition wedged.
        """
        log.error(
            "partition %s[%d] still stalled at %d after %d re-reads: exiting for a restart",
            tp.topic,
            tp.partition,
            offset,
            MAX_REREADS,
        )
        logging.shutdown()
        os._exit(EXIT_STUCK)

    async def check(self) -> None:
        for tp, offset in await self.stalled():
            key = (tp, offset)  # progress moves the offset and starts the count afresh
            self.attempts = {k: n for k, n in self.attempts.items() if k[0] != tp or k == key}
            self.attempts[key] = self.attempts.get(key, 0) + 1
            if self.attempts[key] > MAX_REREADS and self.exit_when_stuck:
                self.give_up(tp, offset)
            log.warning(
                "partition %s[%d] stalled at offset %d: re-reading from there",
                tp.topic,
                tp.partition,
                offset,
                extra={"diagnosis": stall_diagnosis.snapshot(self.app, tp)},
            )
            STALLS.labels(tp.topic).inc()
            # Faust may also have left the partition out of its active set (paused or marked
            # "buffer full" when its buffer was cleared); fetched records would be ignored.
            consumer = self.app.consumer
            consumer._buffered_partitions.discard(tp)
            consumer.resume_partitions({tp})
            await consumer.seek(tp, offset)
            self.suspects.pop(tp, None)


def register(
    app: faust.App, topics: set[str], waiting: Callable[[str], bool], exit_when_stuck: bool, interval: float = 5.0
) -> StallGuard:
    guard = StallGuard(app, topics, waiting, exit_when_stuck)

    @app.timer(interval=interval, name="stall-guard")
    async def check_stalls() -> None:
        await guard.check()

    return guard
