"""Running the Faust app: blocking under signals (``tocsin up``) or inside a running loop (tests)."""

import asyncio
import contextlib

import faust


class EmbeddedWorker(faust.Worker):
    """A worker that leaves signal handling to its host (a test or another service)."""

    def install_signal_handlers(self) -> None:
        return None


async def start_in_loop(app: faust.App) -> faust.Worker:
    """Start ``app`` in the running loop and return its worker; stop it with ``await w.stop()``."""
    worker = EmbeddedWorker(
        app,
        loglevel="info",
        override_logging=False,
        daemon=False,
        quiet=True,
        loop=asyncio.get_running_loop(),
    )
    await worker.start()
    return worker


def run_blocking(app: faust.App, loop: asyncio.AbstractEventLoop) -> None:
    """Run ``app`` until SIGINT/SIGTERM; Faust's worker owns the loop and the signals.

    Log level ``info``: below it Faust forces the root logger to DEBUG, which costs throughput.
    """
    worker = faust.Worker(app, loglevel="info", loop=loop)
    with contextlib.suppress(SystemExit):
        worker.execute_from_commandline()
