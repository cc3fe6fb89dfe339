"""A Kafka transport for Faust whose consumer long-polls for at most ``FETCH_MAX_WAIT_MS``.

Faust hard-codes ``fetch_max_wait_ms=1500`` for its worker consumer. A broker that answers
fetches only when that wait expires (Tansu, the embedded broker, does) then adds up to
1.5 s per hop, and an alert crosses three hops before it reaches ClickHouse. Capping the
wait keeps end-to-end latency well under a second on any broker, at the cost of a few idle
fetch requests per second. Selected with the ``tocsin+kafka://`` broker URL scheme.
"""

from typing import Any

from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "tocsinkafka"
FETCH_MAX_WAIT_MS = 100


class LowLatencyConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when it builds its fetcher in start(), after this returns.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return LowLatencyConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


def consumer_url(broker: str) -> str:
    """The ``broker_consumer`` URL that selects this transport for ``broker``."""
    drivers.TRANSPORTS.aliases.setdefault(SCHEME, f"{__name__}:Transport")
    return ";".join(f"{SCHEME}://{part.split('://', 1)[-1]}" for part in broker.split(";"))
