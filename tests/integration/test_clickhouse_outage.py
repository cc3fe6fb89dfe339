"""A 30-second ClickHouse outage loses nothing: the sink holds its input back and retries.

ClickHouse cannot be stopped here (chDB runs inside the test process), so the outage is
simulated (``tests/support/outage.py``): the real chDB client refuses every insert with
the driver's own ``OperationalError`` while the outage lasts. Everything else is real.
"""

import asyncio
import json
import time

import pytest

from models.timestamps import format_ms
from sinks.clickhouse.metrics import SINK_FAILURES
from sinks.clickhouse.writer import EventWriter
from streams.settings import Settings
from tests.support.outage import OutageProxy
from tests.support.stack import events_of, post, running_tocsin, wait_for

pytestmark = pytest.mark.integration
OUTAGE_SECONDS = 30


def test_thirty_second_outage_loses_nothing(settings: Settings, clickhouse) -> None:
    proxy = OutageProxy(clickhouse)
    writer = EventWriter(proxy, settings.database, max_backoff=2.0)
    now = int(time.time() * 1000) // 1000 * 1000

    def webhook(i: int) -> bytes:
        alert = {
            "status": "firing",
            "labels": {"alertname": "Errors", "service": f"svc-{i}"},
            "annotations": {"summary": "errors"},
            "startsAt": format_ms(now - 60_000),
            "endsAt": "0001-01-01T00:00:00Z",
        }
        return json.dumps({"version": "4", "alerts": [alert]}).encode()

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse, writer=writer):
            url = f"{settings.base_url}/v1/alertmanager"
            failures_before = SINK_FAILURES._value.get()
            proxy.down = True
            started = time.monotonic()
            for i in range(40):  # input keeps arriving during the outage
                assert (await post(url, webhook(i)))[0] == 202
                await asyncio.sleep(0.5)
            while time.monotonic() - started < OUTAGE_SECONDS:
                await asyncio.sleep(0.5)
            assert events_of(clickhouse, settings.database) == []
            assert SINK_FAILURES._value.get() > failures_before
            proxy.down = False
            rows = await wait_for(
                lambda: (r := events_of(clickhouse, settings.database)) and len(r) >= 40 and r, 60, "all events"
            )
            assert sorted(r["service"] for r in rows) == sorted(f"svc-{i}" for i in range(40))
            raw = clickhouse.query(f"SELECT count() FROM {settings.database}.incident_events").result_rows[0][0]
            assert raw == 40, "each retried batch was stored once"

    asyncio.run(scenario())
