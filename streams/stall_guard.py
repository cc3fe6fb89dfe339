"""Stall guard: re-reads a partition whose fetched messages were dropped and never processed.

Around rebalances, faust-streaming can hand fetched messages to a stream while its flow is
suspended or while they still carry the previous generation; the stream skips them and
expects a later seek to re-read them, which sometimes never comes. Their offsets are never
acknowledged, so nothing is lost (the commit stays behind them), but the partition stops
making progress until a restart.

The guard notices a partition with messages past its committed offset whose commit does not
move across two checks (a sink waiting out a ClickHouse outage holds its input back on
purpose and is left alone), and seeks it back to the committed offset: the skipped messages are processed, and
anything processed twice is a no-op downstream (idempotent engine, content-derived event
ids, deduplicating sink). Faust commits every few seconds, so a healthy busy partition's
commit always moves between checks.
"""

import logging
from collections.abc import Callable

import faust
from prometheus_client import Counter

log = logging.getLogger(__name__)

STALLS = Counter("tocsin_stalled_partitions_total", "Partitions re-read after their processing stalled.", ["topic"])


class StallGuard:
    def __init__(self, app: faust.App, topics: set[str], waiting: Callable[[str], bool]) -> None:
        self.app = app
        self.topics = topics
        self.waiting = waiting  # topic → whether its consumer holds back on purpose (a sink in retry)
        self.suspects: dict[object, int] = {}

    async def stalled(self) -> list[tuple[object, int]]:
        """Partitions with work waiting whose commit did not move for two checks in a row."""
        consumer = self.app.consumer
        if not self.app.flow_control.is_active() or self.app.rebalancing:
            self.suspects.clear()
            return []
        owned = [tp for tp in consumer.assignment() if tp.topic in self.topics and not self.waiting(tp.topic)]
        ends = await consumer.highwaters(*owned) if owned else {}
        behind = {}
        for tp in owned:
            committed = consumer._committed_offset.get(tp) or 0
            if (ends.get(tp) or 0) > committed:
                behind[tp] = committed
        stalled = [(tp, offset) for tp, offset in behind.items() if self.suspects.get(tp) == offset]
        self.suspects = behind
        return stalled

    async def check(self) -> None:
        for tp, offset in await self.stalled():
            log.warning("partition %s[%d] stalled at offset %d: re-reading from there", tp.topic, tp.partition, offset)
            STALLS.labels(tp.topic).inc()
            await self.app.consumer.seek(tp, offset)
            self.suspects.pop(tp, None)


def register(app: faust.App, topics: set[str], waiting: Callable[[str], bool], interval: float = 5.0) -> StallGuard:
    guard = StallGuard(app, topics, waiting)

    @app.timer(interval=interval, name="stall-guard")
    async def check_stalls() -> None:
        await guard.check()

    return guard
