"""Print a chDB query's rows as JSON lines: lets a test read a data directory that another
process wrote, since chDB allows one data directory per process.

Usage: python -m tests.support.chdb_dump DATA_DIR SQL
"""

import sys

import orjson

from sinks.clickhouse.client import embedded_dsn, open_client


def main(data_dir: str, sql: str) -> None:
    client = open_client(embedded_dsn(data_dir))
    result = client.query(sql)
    for row in result.result_rows:
        print(orjson.dumps(dict(zip(result.column_names, row, strict=True)), default=str).decode())
    client.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
