"""The benchmark's Kafka producer, in a process of its own (as a real producer would be).

``python -m tests.bench.kafka_sender BOOTSTRAP TOPIC FILE`` sends every ``[key, value]`` pair
of FILE (a JSON list of strings) as one record, awaits every acknowledgement and prints
``{"seconds": …, "records": …}``.
"""

import asyncio
import sys
import time

import orjson
from aiokafka import AIOKafkaProducer


async def send(bootstrap: str, topic: str, pairs: list[tuple[bytes, bytes]]) -> dict:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1 << 20)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value, key=key) for key, value in pairs]
        await asyncio.gather(*futures)
        return {"seconds": time.perf_counter() - started, "records": len(pairs)}
    finally:
        await producer.stop()


def main() -> None:
    bootstrap, topic, path = sys.argv[1:4]
    with open(path, "rb") as handle:
        pairs = [(key.encode(), value.encode()) for key, value in orjson.loads(handle.read())]
    print(orjson.dumps(asyncio.run(send(bootstrap, topic, pairs))).decode(), flush=True)


if __name__ == "__main__":
    main()
