"""Versioned schema migrations: ``schema/NNN_name.sql`` applied once each, in order.

Files use ``{db}`` for the database name so one ClickHouse can host several tocsin
databases (tests use a fresh one each). Applied versions are recorded in
``{db}.schema_migrations``; statements are idempotent (``IF NOT EXISTS``) so a crash
between applying and recording is harmless. Views hold no data: ``views/*.sql`` are
replaced on every run, so a changed view reaches every existing database.
"""

import re
from importlib import resources

from clickhouse_connect.driver.client import Client

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every shipped migration, sorted by version."""
    found = []
    for entry in resources.files("sinks.clickhouse").joinpath("schema").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def view_files() -> list[tuple[str, str]]:
    """(file name, SQL) of every view: not versioned, replaced on every migrate."""
    folder = resources.files("sinks.clickhouse").joinpath("views")
    return sorted((entry.name, entry.read_text()) for entry in folder.iterdir() if entry.name.endswith(".sql"))


def migrate(client: Client, database: str, signals_ttl_days: int | None = None) -> list[str]:
    """Apply pending migrations to ``database``; return the names applied now.

    ``signals_ttl_days`` sets how long ``signals`` rows are kept (existing rows keep their
    old expiry until their parts merge: ``materialize_ttl_after_modify`` is off).
    """
    if not _IDENTIFIER.match(database):
        raise ValueError(f"invalid database name {database!r}")
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = MergeTree ORDER BY version"
    )
    done = {row[0] for row in client.query(f"SELECT version FROM {database}.schema_migrations").result_rows}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        for statement in _statements(sql.replace("{db}", database)):
            client.command(statement)
        client.insert(f"{database}.schema_migrations", [[version, name]], column_names=["version", "name"])
        applied.append(name)
    for _, sql in view_files():
        for statement in _statements(sql.replace("{db}", database)):
            client.command(statement)
    if signals_ttl_days:
        client.command(
            f"ALTER TABLE {database}.signals MODIFY TTL toDateTime(received_at) + INTERVAL {int(signals_ttl_days)} DAY",
            settings={"materialize_ttl_after_modify": 0},
        )
    return applied
