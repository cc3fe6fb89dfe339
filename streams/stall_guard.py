"""Stall guard: re-reads a partition whose fetched messages were dropped and never processed.

Around rebalances, faust-streaming can hand fetched messages to a stream while its flow is
suspended or while they still carry the previous generation; the stream skips them and
expects a later seek to re-read them, which sometimes never comes. Their offsets are never
acknowledged, so nothing is lost (the commit stays behind them), but the partition stops
making progress until a restart.

The guard notices a partition whose read position is past its committed offset while the
commit does not move across two checks (a message still in flight after that long is
treated as dropped too), and seeks it back to the committed offset: the skipped messages
are processed, and anything processed twice is a no-op downstream (idempotent engine,
content-derived event ids, deduplicating sink).
"""

import logging

import faust
from prometheus_client import Counter

log = logging.getLogger(__name__)

STALLS = Counter("tocsin_stalled_partitions_total", "Partitions re-read after their processing stalled.", ["topic"])


class StallGuard:
    def __init__(self, app: faust.App, topics: set[str]) -> None:
        self.app = app
        self.topics = topics
        self.suspects: dict[object, int] = {}

    def stalled(self) -> list[tuple[object, int]]:
        """Partitions behind for two checks in a row, with the offset to re-read from."""
        consumer = self.app.consumer
        if not self.app.flow_control.is_active() or self.app.rebalancing:
            self.suspects.clear()
            return []
        now_behind: dict[object, int] = {}
        for tp in consumer.assignment():
            if tp.topic not in self.topics:
                continue
            committed, read = consumer._committed_offset.get(tp), consumer._read_offset.get(tp)
            if committed is not None and read is not None and read >= committed:
                now_behind[tp] = committed
        stalled = [(tp, offset) for tp, offset in now_behind.items() if self.suspects.get(tp) == offset]
        self.suspects = now_behind
        return stalled

    async def check(self) -> None:
        for tp, offset in self.stalled():
            log.warning("partition %s[%d] stalled at offset %d: re-reading from there", tp.topic, tp.partition, offset)
            STALLS.labels(tp.topic).inc()
            await self.app.consumer.seek(tp, offset)
            self.suspects.pop(tp, None)


def register(app: faust.App, topics: set[str], interval: float = 5.0) -> StallGuard:
    guard = StallGuard(app, topics)

    @app.timer(interval=interval, name="stall-guard")
    async def check_stalls() -> None:
        await guard.check()

    return guard
