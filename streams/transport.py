"""tocsin's Kafka transport for Faust: fixes over faust-streaming 0.15's aiokafka driver.

1. **Latency.** Faust hard-codes ``fetch_max_wait_ms=1500`` for its worker consumer. A
   broker that answers fetches only when that wait expires (Tansu, the embedded broker,
   does) then adds up to 1.5 s per hop, and an alert crosses three hops before it reaches
   ClickHouse. The wait is capped at ``FETCH_MAX_WAIT_MS``.
2. **No lost messages around a rebalance.** Faust's fetch loop hands each message to the
   streams while racing ``suspend_flow``; when the suspension wins, the message is not
   delivered, yet the loop still advances its read offset, so after the recovery's seek
   back to the committed offset the re-fetched message is dropped as "already read" and
   its offset is later committed: acknowledged input lost (faust-streaming issue #629 and
   relatives). Here the read offset only advances for messages actually delivered, and a
   batch fetched across a seek is not handed out (it may predate the seek).
3. **No wedged partitions.** When Faust (or tocsin, above) breaks off a fetched batch —
   flow stopped, generation changed, seek meanwhile, partition inactive — aiokafka has
   already moved its position past the records, and nothing fetches them again: the
   partition stops with its commit behind, and every restart stops at the same place. The
   partitions of such a batch are sought back to their committed offsets instead.
   Reproduced by ``tests/e2e/test_crash_restart.py`` (SIGKILL mid-stream, restart).
4. **One group protocol for every role.** Faust gives an app without tables aiokafka's
   round-robin assignor, so a process without the ``engine`` role (``streams.roles``) would
   be refused (InconsistentGroupProtocol) by the group its engine processes formed with
   Faust's assignor. Every tocsin process uses Faust's assignor, which hands each topic's
   partitions to the members that subscribe to it.
5. **No offsets skipped as "compacted".** When the fetch loop meets a record past an offset
   it never delivered, Faust takes the offsets between for a compaction gap and commits
   across them. tocsin's streams are not compacted and use no transactions: such a jump
   means records were skipped (seen after a SIGKILL and restart: whole runs of engine
   input and event-log rows lost, ``tests/e2e/test_crash_restart.py``). While the skipped
   offsets are still on the log, the batch is broken off and its partitions are sought back
   to their committed offsets (``tocsin_consumer_refetches_total{reason="skipped"}``); below
   the log start (deleted by retention) the gap is real and Faust's handling stands.
6. **True end offsets.** ``highwaters`` (table recovery, lag, drain, stall checks) is
   corrected for brokers whose ListOffsets answers short (``streams.end_offsets``).

Selected with the ``tocsinkafka://`` broker URL scheme (see ``consumer_url``).
"""

import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from prometheus_client import Counter

from streams.end_offsets import EndOffsets

log = logging.getLogger(__name__)

SCHEME = "tocsinkafka"
REFETCHES = Counter(
    "tocsin_consumer_refetches_total", "Fetched batches broken off and fetched again, by reason.", ["reason"]
)
FETCH_MAX_WAIT_MS = 50


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads both when it builds its fetcher and coordinator in start(), after this returns.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        self._assignor = self.app.assignor
        consumer._partition_assignment_strategy = [self.app.assignor]
        self._end_offsets = EndOffsets(faust_aiokafka.server_list(transport.url, transport.default_port))
        return consumer

    async def _highwaters(self, partitions: list[TP]) -> Any:
        return await self._end_offsets.correct(await super()._highwaters(partitions))

    async def on_thread_stop(self) -> None:
        await super().on_thread_stop()
        if end_offsets := getattr(self, "_end_offsets", None):  # set once the consumer was made
            await end_offsets.stop()

    async def _fetch_records(self, *args: Any, **kwargs: Any) -> Any:
        records = await super()._fetch_records(*args, **kwargs)
        trace = self.consumer.trace
        for tp, batch in records.items():
            if batch:
                trace["fetched"][tp] = batch[-1].offset
        return records


class DeliveredReadOffsets(defaultdict):
    """Read offsets that the fetch loop may advance only for delivered messages.

    ``delivered`` holds (tp, offset) of messages the stream callback completed; the fetch
    loop's ``read_offset[tp] = offset`` is ignored for any other. Seeks write through
    ``set`` (and ``update``), which always apply.
    """

    def __init__(self) -> None:
        super().__init__(lambda: None)
        self.delivered: set[tuple[TP, int]] = set()

    def __setitem__(self, tp: TP, offset: int | None) -> None:
        if (tp, offset) in self.delivered:
            self.delivered.discard((tp, offset))
            super().__setitem__(tp, offset)

    def set(self, tp: TP, offset: int | None) -> None:
        super().__setitem__(tp, offset)


class Consumer(faust_aiokafka.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seek_epoch = 0
        # Last offset per partition at each stage: returned by aiokafka, yielded to the fetch loop.
        self.trace: dict[str, Any] = {"fetched": {}, "yielded": {}}
        offsets = self._read_offset = DeliveredReadOffsets()
        deliver = self.callback

        async def callback(message: Any) -> None:
            await deliver(message)
            offsets.delivered.add((message.tp, message.offset))

        self.callback = callback

    async def seek(self, partition: TP, offset: int) -> None:
        self._seek_epoch += 1
        await self._seek(partition, offset)
        self._read_offset.set(partition, offset if offset else None)
        self._seek_epoch += 1

    async def perform_seek(self) -> None:
        # Records fetched before (or while) seeking are stale: stop handing them out, or the
        # read offset runs past the seek target and the re-fetched records get dropped.
        self._seek_epoch += 1
        await super().perform_seek()
        self._seek_epoch += 1

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        """Faust's ``getmany``, except that records it holds back are fetched again.

        Faust breaks off a fetched batch when the flow stops, the generation changes or a
        partition went inactive, and tocsin when a seek happened meanwhile (the batch may
        predate it). aiokafka has already moved past those records, so nothing would
        fetch them again: the partition wedges with its commit behind. Each partition of
        a batch broken off is sought back to its committed offset, counted by reason in
        ``tocsin_consumer_refetches_total``.
        """
        epoch = self._seek_epoch
        records, active_partitions = await self._wait_next_records(timeout)
        generation_id = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        if not self.flow_active:  # as Faust does: back to the committed offsets, all of them
            REFETCHES.labels("flow_inactive").inc()
            try:
                await self.perform_seek()
            except Exception as exc:
                self.log.warning("exception performing seek when flow not active %r", exc)
            return
        held: set[TP] = set()
        for tp, record in self.scheduler.iterate(records):
            reason = self._break_reason(epoch, generation_id)
            if reason:
                await self._hold_back(reason, records)
                return
            if active_partitions is None or tp in active_partitions or tp in self._buffered_partitions:
                if await self._skipped_to(tp, record.offset):
                    await self._hold_back("skipped", records)
                    return
                self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                self.trace["yielded"][tp] = record.offset
                yield tp, self._to_message(tp, record)
            else:
                held.add(tp)
        if held:
            await self._hold_back("partition_inactive", dict.fromkeys(held))

    async def _skipped_to(self, tp: TP, offset: int) -> bool:
        """Whether ``offset`` lies past records of ``tp`` never delivered that are still on the log."""
        last = self._read_offset.get(tp)
        if last is None or offset <= last + 1 or not self.app.topics.acks_enabled_for(tp.topic):
            return False
        start = (await self.earliest_offsets(tp)).get(tp, 0)
        if offset - 1 < start:
            return False
        log.warning("%s: the fetch skipped from offset %d to %d; reading them again", tp, last, offset)
        return True

    def _break_reason(self, epoch: int, generation_id: int) -> str:
        if not self.flow_active:
            return "flow_stopped"
        if self.app.consumer_generation_id != generation_id:
            return "generation_changed"
        if self._seek_epoch != epoch:
            return "seek_meanwhile"
        return ""

    async def _hold_back(self, reason: str, records: dict) -> None:
        """Seek the partitions of discarded records back to their committed offsets.

        A partition with no commit yet goes back to offset 0; below the log start, the
        consumer's reset policy (earliest) moves it to the first record there is.
        """
        REFETCHES.labels(reason).inc()
        assigned = self.assignment()
        for tp in records:
            if tp in assigned:
                await self.seek(tp, self._committed_offset.get(tp) or 0)

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


def consumer_url(broker: str) -> str:
    """The ``broker_consumer`` URL that selects this transport for ``broker``."""
    drivers.TRANSPORTS.aliases.setdefault(SCHEME, f"{__name__}:Transport")
    return ";".join(f"{SCHEME}://{part.split('://', 1)[-1]}" for part in broker.split(";"))
