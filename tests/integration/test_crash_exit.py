"""A worker that crashes exits non-zero and says why, so a supervisor restarts it.

The crash is injected (a timer that crashes the app): the real ones — a produce the broker
refuses, a store that cannot open — cannot be caused on demand.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from streams.local.broker import EmbeddedBroker
from streams.worker import EXIT_CRASHED

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import faust
    from streams.worker import run_blocking

    app = faust.App("crash-test", broker=sys.argv[1], store="memory://", datadir=sys.argv[2],
                    web_enabled=False, broker_session_timeout=6.0, broker_rebalance_timeout=6.0)

    @app.timer(interval=0.5)
    async def boom() -> None:
        await app.crash(RuntimeError("injected: the engine cannot go on"))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    run_blocking(app, loop, set(), 1.0)
    """
)


def test_a_crash_exits_non_zero_with_the_reason(broker: EmbeddedBroker, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, broker.url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == EXIT_CRASHED, done.stdout[-2000:] + done.stderr[-2000:]
    assert "tocsin stopped after a crash" in done.stderr and "injected: the engine cannot go on" in done.stderr
