"""The ``tocsin`` command line."""

from pathlib import Path

import click

from streams.settings import DEFAULT_DATA_DIR, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, from_env


@click.group()
def main() -> None:
    """tocsin: alerts in, incidents out."""


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where the embedded ClickHouse (and Faust state) live.",
)
@click.option("--http-host", default=DEFAULT_HTTP_HOST, show_default=True, help="Address the HTTP server binds.")
@click.option("--http-port", type=int, default=DEFAULT_HTTP_PORT, show_default=True)
@click.option("--broker", default="", help="kafka://host:port of an external broker; default: start the embedded one.")
@click.option(
    "--clickhouse",
    default="",
    help="ClickHouse DSN (chdb:///dir, http(s)://…); default: embedded chDB under --data-dir.",
)
@click.option("--database", default="tocsin", show_default=True, help="ClickHouse database.")
@click.option("--partitions", type=int, default=4, show_default=True, help="Partitions of topics tocsin creates.")
def up(
    data_dir: Path, http_host: str, http_port: int, broker: str, clickhouse: str, database: str, partitions: int
) -> None:
    """Run the whole pipeline: broker and ClickHouse (embedded unless given), worker, HTTP."""
    from streams.up import run_up

    settings = from_env().with_(
        data_dir=data_dir,
        http_host=http_host,
        http_port=http_port,
        broker=broker,
        clickhouse=clickhouse,
        database=database,
        partitions=partitions,
    )
    run_up(settings)


if __name__ == "__main__":
    main()
