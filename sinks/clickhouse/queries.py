"""Read queries over ``incident_events``, shared by the HTTP API and the CLI."""

from clickhouse_connect.driver.client import Client

INCIDENTS_SQL = """
SELECT incident_id, s AS service, t AS title, st AS status, n AS seq, opened_at, resolved_at
FROM
(
    SELECT
        incident_id,
        argMax(service, seq) AS s,
        argMax(title, seq)   AS t,
        argMax(status, seq)  AS st,
        max(seq)             AS n,
        minIf(at, kind = 'opened') AS opened_at,
        if(argMax(kind, seq) = 'resolved', max(at), NULL) AS resolved_at
    FROM {db}.incident_events FINAL
    GROUP BY incident_id
)
WHERE {open_only} = 0 OR st != 'resolved'
ORDER BY opened_at DESC
LIMIT {limit}
"""


def list_incidents(client: Client, database: str, *, open_only: bool = False, limit: int = 100) -> list[dict]:
    """Latest view of each incident, newest first."""
    sql = INCIDENTS_SQL.format(db=database, open_only=int(open_only), limit=int(limit))
    result = client.query(sql)
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    for row in rows:
        for name in ("opened_at", "resolved_at"):
            if row[name] is not None:
                row[name] = row[name].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return rows
