"""One settings object, built once at start-up from flags, environment and a policy file,
then passed down as plain values.

| variable | flag | default | meaning |
|---|---|---|---|
| `TOCSIN_BROKER` | `--broker` | embedded Tansu (`tocsin up`) | `kafka://host:port[;host:port…]` |
| `TOCSIN_CLICKHOUSE` | `--clickhouse` | `chdb://<data-dir>/clickhouse` | ClickHouse DSN |
| `TOCSIN_DATABASE` | `--database` | `tocsin` | ClickHouse database |
| `TOCSIN_DATA_DIR` | `--data-dir` | `.tocsin` | embedded ClickHouse and worker state |
| `TOCSIN_HTTP_HOST` | `--http-host` | `127.0.0.1` | HTTP bind address |
| `TOCSIN_HTTP_PORT` | `--http-port` | `6066` | HTTP port |
| `TOCSIN_TLS_CERT` / `_KEY` | `--tls-cert` / `--tls-key` | none | PEM certificate and key: HTTPS |
| `TOCSIN_TOPIC_PREFIX` | `--topic-prefix` | `tocsin` | prefix of every topic name |
| `TOCSIN_PARTITIONS` | `--partitions` | `4` | partitions of topics tocsin creates |
| `TOCSIN_POLICY` | `--policy` | built in | YAML policy file (see `tocsin policy`) |
| `TOCSIN_EVENT_RECORDER_TOPIC` | `--event-recorder-topic` | none | Alertmanager's event recorder topic (JSON) |
| `TOCSIN_API_TOKEN` | — | none | one bearer token with every scope |
| `TOCSIN_API_TOKENS` / `_FILE` | — | none | scoped tokens `name:ingest+operate+read:secret` (`web/auth.py`) |
| `TOCSIN_ROLES` | `--roles` | `ingest,engine,sink,api` (+`notify` given channels) | what this runs (`roles.py`) |
| `TOCSIN_STORE` | `--store` | `rocksdb://` (`up`, `worker`) | Faust table store (`memory://` forgets on restart) |
| `TOCSIN_APP_ID` | `--app-id` | `tocsin` | consumer group and table namespace |
| `TOCSIN_SINK_BATCH_SIZE` / `TOCSIN_SINK_BATCH_SECONDS` | — | `1000` / `0.2` | ClickHouse batch bounds |
| `TOCSIN_CORRELATE_BATCH_SIZE` / `_SECONDS` | — | `500` / `0.02` | engine batch bounds (records, seconds) |
| `TOCSIN_STATE_CACHE_KEYS` | — | `20000` | decoded key states kept in memory (the table holds all) |
| `TOCSIN_SIGNALS_TTL_DAYS` | — | `30` | how long ClickHouse keeps the `signals` log |
| `TOCSIN_LOG_FORMAT` | `--log-format` | `auto` | `json`, `text`, or `auto`: text on a terminal, JSON lines otherwise |
| `TOCSIN_LOG_LEVEL` | `--log-level` | `info` | `debug`, `info`, `warning`, `error` |
| `TOCSIN_ADOPT_LOCAL_STATE` | — | off (on for `up`) | keep local state when the broker lost its changelog |
| `TOCSIN_FAST_GROUP_JOIN` | — | off (on for `up`) | 6 s session/rebalance timeouts: quick joins, quick failover |
"""

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from models.limits import DEFAULT_LIMITS, Limits
from models.policy import Policy, load_policy
from streams.logs import FORMATS, LEVELS
from streams.roles import CLICKHOUSE_ROLES, DEFAULT, NOTIFY, parse_roles

DEFAULT_HTTP_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 6066
DEFAULT_DATA_DIR = ".tocsin"


@dataclass(frozen=True)
class Settings:
    """Where tocsin connects, how it names things, and the incident policy.

    ``broker`` and ``clickhouse`` empty mean "start the embedded one" (``tocsin up``).
    """

    broker: str = ""
    clickhouse: str = ""
    database: str = "tocsin"
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    http_host: str = DEFAULT_HTTP_HOST
    http_port: int = DEFAULT_HTTP_PORT
    tls_cert: str = ""
    tls_key: str = ""
    app_id: str = "tocsin"
    topic_prefix: str = "tocsin"
    event_recorder_topic: str = ""
    partitions: int = 4
    store: str = "memory://"
    policy: Policy = field(default_factory=load_policy)
    policy_file: str = ""
    api_token: str = field(default="", repr=False)
    api_tokens: tuple = field(default=(), repr=False)  # streams.web.auth.Token, from TOCSIN_API_TOKENS(_FILE)
    limits: Limits = field(default_factory=lambda: DEFAULT_LIMITS)
    sink_batch_size: int = 1000
    sink_batch_seconds: float = 0.2
    correlate_batch_size: int = 500
    state_cache_keys: int = 20_000
    correlate_batch_seconds: float = 0.02
    tick_seconds: float = 1.0
    stall_check_seconds: float = 5.0
    fast_group_join: bool = False
    drain_seconds: float = 10.0
    signals_ttl_days: int = 30
    demo: bool = False  # `tocsin up --demo`: replay the newcomer scenario once running
    log_format: str = "auto"
    log_level: str = "info"
    embedded_broker: bool = False  # `tocsin up` started the broker: it is new, its topics empty
    adopt_local_state: bool = False  # keep the local state store when the broker lost its changelog
    exit_when_stuck: bool = False  # the CLI's workers exit (status 75) for a supervisor to restart them
    roles: str = ""  # streams.roles: which parts of tocsin this process runs ("": the default)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", self.topic_prefix):
            raise ValueError(f"invalid topic prefix {self.topic_prefix!r}")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", self.app_id):
            raise ValueError(f"invalid app id {self.app_id!r}")
        if self.partitions < 1:
            raise ValueError("partitions must be at least 1")
        if self.log_format not in FORMATS:
            raise ValueError(f"log format {self.log_format!r}; one of {', '.join(FORMATS)}")
        if self.log_level.lower() not in LEVELS:
            raise ValueError(f"log level {self.log_level!r}; one of {', '.join(LEVELS)}")
        if self.roles:
            parse_roles(self.roles)
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")

    def with_(self, **changes: object) -> "Settings":
        """A copy with ``changes``; empty values keep the current setting."""
        kept = {k: v for k, v in changes.items() if v not in (None, "")}
        if "policy_file" in kept:
            kept["policy"] = load_policy(Path(kept["policy_file"]).read_text())
        return replace(self, **kept)

    @property
    def bootstrap_servers(self) -> str:
        """``host:port,…`` for aiokafka, from a ``kafka://`` URL or a bare list."""
        return ",".join(part.split("://", 1)[-1] for part in self.broker.split(";"))

    @property
    def role_set(self) -> frozenset[str]:
        if self.roles:
            return parse_roles(self.roles)
        return frozenset(DEFAULT) | ({NOTIFY} if self.policy.notifications.channels else set())

    @property
    def needs_clickhouse(self) -> bool:
        return bool(self.role_set & CLICKHOUSE_ROLES)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls_cert else 'http'}://{self.http_host}:{self.http_port}"


_ENV = {
    "broker": "TOCSIN_BROKER",
    "clickhouse": "TOCSIN_CLICKHOUSE",
    "database": "TOCSIN_DATABASE",
    "data_dir": "TOCSIN_DATA_DIR",
    "http_host": "TOCSIN_HTTP_HOST",
    "http_port": "TOCSIN_HTTP_PORT",
    "tls_cert": "TOCSIN_TLS_CERT",
    "tls_key": "TOCSIN_TLS_KEY",
    "topic_prefix": "TOCSIN_TOPIC_PREFIX",
    "event_recorder_topic": "TOCSIN_EVENT_RECORDER_TOPIC",
    "partitions": "TOCSIN_PARTITIONS",
    "policy_file": "TOCSIN_POLICY",
    "api_token": "TOCSIN_API_TOKEN",
    "store": "TOCSIN_STORE",
    "app_id": "TOCSIN_APP_ID",
    "fast_group_join": "TOCSIN_FAST_GROUP_JOIN",
    "signals_ttl_days": "TOCSIN_SIGNALS_TTL_DAYS",
    "sink_batch_size": "TOCSIN_SINK_BATCH_SIZE",
    "state_cache_keys": "TOCSIN_STATE_CACHE_KEYS",
    "correlate_batch_size": "TOCSIN_CORRELATE_BATCH_SIZE",
    "correlate_batch_seconds": "TOCSIN_CORRELATE_BATCH_SECONDS",
    "sink_batch_seconds": "TOCSIN_SINK_BATCH_SECONDS",
    "log_format": "TOCSIN_LOG_FORMAT",
    "log_level": "TOCSIN_LOG_LEVEL",
    "adopt_local_state": "TOCSIN_ADOPT_LOCAL_STATE",
    "roles": "TOCSIN_ROLES",
}


def _typed(kind: object, text: str) -> object:
    if kind in (bool, "bool"):
        return text.lower() in ("1", "true", "yes", "on")
    if kind in (int, "int"):
        return int(text)
    if kind in (float, "float"):
        return float(text)
    if kind in (Path, "Path"):
        return Path(text)
    return text


def from_env(environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``TOCSIN_*`` environment variables, defaults for the rest."""
    env = os.environ if environ is None else environ
    types = {f.name: f.type for f in fields(Settings)}
    changes: dict[str, object] = {}
    for name, variable in _ENV.items():
        if env.get(variable):
            changes[name] = _typed(types[name], env[variable])
    from streams.web.auth import tokens_from_env

    return Settings().with_(**changes, api_tokens=tokens_from_env(env) or None)
