"""Running the Faust app: blocking under signals (``tocsin up``) or inside a running loop (tests)."""

import asyncio
import logging
import signal

import faust

from streams.drain import drain

log = logging.getLogger(__name__)

#: Exit status after a crash (EX_SOFTWARE): a supervisor set to restart on failure restarts it.
EXIT_CRASHED = 70


class QuietWorker(faust.Worker):
    """A worker without Faust's terminal spinner: tocsin's own log lines tell the start-up."""

    def __init__(self, app: faust.App, **kwargs: object) -> None:
        super().__init__(app, **kwargs)
        self.spinner = None


class EmbeddedWorker(QuietWorker):
    """A worker that leaves signal handling to its host (a test or another service)."""

    def install_signal_handlers(self) -> None:
        return None


class DrainingWorker(QuietWorker):
    """On SIGINT/SIGTERM, drain the pipeline topics (bounded) before the normal shutdown."""

    def __init__(self, app: faust.App, *, drain_topics: set[str], drain_timeout: float, **kwargs: object) -> None:
        super().__init__(app, **kwargs)
        self.drain_topics = drain_topics
        self.drain_timeout = drain_timeout
        self._draining = False

    def _on_sigint(self) -> None:
        self._begin_drain(signal.SIGINT)

    def _on_sigterm(self) -> None:
        self._begin_drain(signal.SIGTERM)

    def _begin_drain(self, signum: signal.Signals) -> None:
        if self._draining:  # a second signal stops at once
            self._schedule_shutdown(signum)
            return
        self._draining = True
        self.log.info("Signal received: %s; draining before shutdown", signum.name)
        self.add_future(self._drain_then_stop(signum))

    async def _drain_then_stop(self, signum: signal.Signals) -> None:
        try:
            await drain(self.app, self.drain_topics, self.drain_timeout)
        finally:
            self._schedule_shutdown(signum)


async def start_in_loop(app: faust.App) -> faust.Worker:
    """Start ``app`` in the running loop and return its worker; stop it with ``await w.stop()``."""
    worker = EmbeddedWorker(
        app, loglevel="info", override_logging=False, daemon=False, quiet=True, loop=asyncio.get_running_loop()
    )
    await worker.start()
    return worker


def run_blocking(app: faust.App, loop: asyncio.AbstractEventLoop, drain_topics: set[str], drain_timeout: float) -> None:
    """Run ``app`` until SIGINT/SIGTERM; the worker owns the loop and the signals.

    Logging is tocsin's (``streams.logs``): Faust's own set-up would force the root logger
    to DEBUG below ``info`` (which costs throughput) and cannot write JSON.
    """
    worker = DrainingWorker(
        app, drain_topics=drain_topics, drain_timeout=drain_timeout, override_logging=False, loop=loop
    )
    code: int | str | None = 0
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = exc.code
    crash = worker.crash_reason or app.crash_reason
    if crash is not None or code:
        log.critical("tocsin stopped after a crash: %r", crash or f"exit status {code}")
        raise SystemExit(EXIT_CRASHED if crash is not None or not isinstance(code, int) else code)
