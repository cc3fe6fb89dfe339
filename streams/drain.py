"""Graceful drain: before stopping, finish what was accepted.

The embedded broker keeps topics in memory, so input that is on Kafka but not yet in
ClickHouse when ``tocsin up`` stops would be gone with the broker. On SIGINT/SIGTERM the
worker therefore waits (bounded) until every owned partition of the pipeline topics is
processed and committed up to its end, then shuts down. Against a durable cluster this
just shortens the replay after a restart.
"""

import asyncio
import logging

import faust

from streams.lag import lag_by_topic

log = logging.getLogger(__name__)


async def pipeline_lag(app: faust.App, topics: set[str]) -> int:
    """Messages on ``topics`` (owned partitions) not yet processed and committed."""
    await app.consumer.commit()
    return sum((await lag_by_topic(app, topics)).values())


async def drain(app: faust.App, topics: set[str], timeout: float) -> bool:
    """Wait until ``pipeline_lag`` is zero; ``False`` if ``timeout`` ran out first."""
    app.tocsin_draining = True  # timers stop adding work (ticks), so the lag can reach zero
    lag = -1
    try:
        async with asyncio.timeout(timeout):  # a commit can hang while the broker is gone
            while (lag := await pipeline_lag(app, topics)) != 0:
                await asyncio.sleep(0.05)
    except TimeoutError:
        log.warning(
            "stopping with %s unprocessed messages after a %.0fs drain", lag if lag >= 0 else "unknown", timeout
        )
        return False
    log.info("drained: all accepted input is processed")
    return True
