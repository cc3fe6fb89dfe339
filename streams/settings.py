"""One settings object, built once at start-up and passed down as plain values."""

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from models.limits import DEFAULT_LIMITS, Limits

DEFAULT_HTTP_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 6066
DEFAULT_DATA_DIR = ".tocsin"


@dataclass(frozen=True)
class Settings:
    """Where tocsin connects and how it names things.

    ``broker`` and ``clickhouse`` empty mean "start the embedded one" (``tocsin up``).
    """

    broker: str = ""
    clickhouse: str = ""
    database: str = "tocsin"
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    http_host: str = DEFAULT_HTTP_HOST
    http_port: int = DEFAULT_HTTP_PORT
    app_id: str = "tocsin"
    topic_prefix: str = "tocsin"
    partitions: int = 4
    store: str = "memory://"
    limits: Limits = field(default_factory=lambda: DEFAULT_LIMITS)
    sink_batch_size: int = 1000
    sink_batch_seconds: float = 0.2
    fast_group_join: bool = False
    drain_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", self.topic_prefix):
            raise ValueError(f"invalid topic prefix {self.topic_prefix!r}")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", self.app_id):
            raise ValueError(f"invalid app id {self.app_id!r}")

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)

    @property
    def bootstrap_servers(self) -> str:
        """``host:port,…`` for aiokafka, from a ``kafka://`` URL or a bare list."""
        return ",".join(part.removeprefix("kafka://") for part in self.broker.split(";"))

    @property
    def base_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"


def from_env(environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``TOCSIN_*`` environment variables, defaults for the rest."""
    env = os.environ if environ is None else environ
    base = Settings()
    return base.with_(
        broker=env.get("TOCSIN_BROKER", base.broker),
        clickhouse=env.get("TOCSIN_CLICKHOUSE", base.clickhouse),
        database=env.get("TOCSIN_DATABASE", base.database),
        data_dir=Path(env.get("TOCSIN_DATA_DIR", str(base.data_dir))),
        http_host=env.get("TOCSIN_HTTP_HOST", base.http_host),
        http_port=int(env.get("TOCSIN_HTTP_PORT", base.http_port)),
        topic_prefix=env.get("TOCSIN_TOPIC_PREFIX", base.topic_prefix),
        partitions=int(env.get("TOCSIN_PARTITIONS", base.partitions)),
    )
