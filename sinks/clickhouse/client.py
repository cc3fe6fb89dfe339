"""Open ClickHouse through clickhouse-connect from one DSN.

``chdb:///dir`` runs the ClickHouse engine in-process (the embedded default); ``http://`` and
``https://`` DSNs reach a ClickHouse server. Callers get the same client API either way.
chDB has only a synchronous client and lets one process open a data directory at a time.
"""

from pathlib import Path
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client

SUPPORTED_SCHEMES = ("chdb", "http", "https")


def embedded_dsn(data_dir: str | Path) -> str:
    """The chDB DSN for tocsin's embedded ClickHouse under ``data_dir``."""
    return f"chdb://{Path(data_dir).absolute() / 'clickhouse'}"


def open_client(dsn: str) -> Client:
    """Return a clickhouse-connect client for ``dsn``, creating a chDB directory if needed."""
    scheme = urlparse(dsn).scheme
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(f"unsupported ClickHouse DSN scheme {scheme!r}; use one of {SUPPORTED_SCHEMES}")
    if scheme == "chdb":
        Path(urlparse(dsn).path).mkdir(parents=True, exist_ok=True)
    return clickhouse_connect.get_client(dsn=dsn)
