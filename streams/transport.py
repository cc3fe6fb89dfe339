"""tocsin's Kafka transport for Faust: two fixes over faust-streaming 0.15's aiokafka driver.

1. **Latency.** Faust hard-codes ``fetch_max_wait_ms=1500`` for its worker consumer. A
   broker that answers fetches only when that wait expires (Tansu, the embedded broker,
   does) then adds up to 1.5 s per hop, and an alert crosses three hops before it reaches
   ClickHouse. The wait is capped at ``FETCH_MAX_WAIT_MS``.
2. **No lost messages around a rebalance.** Faust's fetch loop hands each message to the
   streams while racing ``suspend_flow``; when the suspension wins, the message is not
   delivered, yet the loop still advances its read offset, so after the recovery's seek
   back to the committed offset the re-fetched message is dropped as "already read" and
   its offset is later committed: acknowledged input lost (faust-streaming issue #629 and
   relatives; reproduced by ``tests/e2e/test_crash_restart.py``). A related race lets the
   fetch loop keep handing out records fetched before the recovery's seek, again moving the
   read offset past records the streams skipped. Here the read offset only advances for
   messages actually delivered, and records fetched before a seek are discarded (the seek
   re-reads them).

Selected with the ``tocsinkafka://`` broker URL scheme (see ``consumer_url``).
"""

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

SCHEME = "tocsinkafka"
FETCH_MAX_WAIT_MS = 100


class LowLatencyConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when it builds its fetcher in start(), after this returns.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


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
        epoch = self._seek_epoch
        async for tp, message in super().getmany(timeout):
            if self._seek_epoch != epoch:
                return
            yield tp, message

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return LowLatencyConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


def consumer_url(broker: str) -> str:
    """The ``broker_consumer`` URL that selects this transport for ``broker``."""
    drivers.TRANSPORTS.aliases.setdefault(SCHEME, f"{__name__}:Transport")
    return ";".join(f"{SCHEME}://{part.split('://', 1)[-1]}" for part in broker.split(";"))
