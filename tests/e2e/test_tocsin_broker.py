"""``tocsin broker``: the embedded broker alone, for several tocsin processes on one machine."""

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.support.stack import read_topic

pytestmark = pytest.mark.integration


def test_broker_prints_its_url_serves_kafka_and_stops_on_sigterm(tmp_path: Path) -> None:
    broker = subprocess.Popen(
        [str(Path(sys.executable).parent / "tocsin"), "broker", "--log-file", str(tmp_path / "broker.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = broker.stdout.readline().strip()
        assert url.startswith("kafka://127.0.0.1:"), url
        bootstrap = url.removeprefix("kafka://")

        async def round_trip() -> list:
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait("hello", b"world")
            finally:
                await producer.stop()
            return await read_topic(bootstrap, "hello", 1)

        assert [r.value for r in asyncio.run(round_trip())] == [b"world"]
        broker.send_signal(signal.SIGTERM)
        assert broker.wait(15) == 0
    finally:
        if broker.poll() is None:
            broker.kill()
            broker.wait()
