"""Open ClickHouse through clickhouse-connect from one DSN.

``chdb:///dir`` runs the ClickHouse engine in-process (the embedded default); ``http://`` and
``https://`` DSNs reach a ClickHouse server. Callers get the same client API either way.
chDB has only a synchronous client and lets one process open a data directory at a time.
"""

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client

SUPPORTED_SCHEMES = ("chdb", "http", "https")


def embedded_dsn(data_dir: str | Path) -> str:
    """The chDB DSN for tocsin's embedded ClickHouse under ``data_dir``."""
    return f"chdb://{Path(data_dir).absolute() / 'clickhouse'}"


class SerializedClient:
    """A client whose calls run one at a time.

    chDB's embedded engine is not safe for concurrent calls from several threads (the event
    sink, the signal sink and the HTTP API all call it through ``asyncio.to_thread``); two
    at once can hang both, which then stalls every stream of the worker.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._lock = threading.Lock()

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._client.insert(*args, **kwargs)

    def raw_insert(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._client.raw_insert(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._client.query(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._client.command(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def open_client(dsn: str) -> Client:
    """Return a clickhouse-connect client for ``dsn``, creating a chDB directory if needed."""
    scheme = urlparse(dsn).scheme
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(f"unsupported ClickHouse DSN scheme {scheme!r}; use one of {SUPPORTED_SCHEMES}")
    if scheme == "chdb":
        Path(urlparse(dsn).path).mkdir(parents=True, exist_ok=True)
        return SerializedClient(clickhouse_connect.get_client(dsn=dsn))
    return clickhouse_connect.get_client(dsn=dsn)
