"""The stored history a replay needs: every engine input of a window, in the order the
engine applied it, and the lifecycle events that were recorded for it."""

from collections.abc import Iterator

from clickhouse_connect.driver.client import Client

from sinks.clickhouse.queries import quote

INPUTS_SQL = """
SELECT token, key, toUnixTimestamp64Milli(received_at) AS now, input, fingerprint, content, payload
FROM {db}.signals FINAL
WHERE received_at >= fromUnixTimestamp64Milli({since}) AND (payload != '' OR content != '' OR input = 'tick') {tokens}
ORDER BY partition, offset, position
"""

TOKENS_SQL = "AND token IN (SELECT token FROM {db}.signals WHERE service = {service} AND token != '')"

SILENCES_SQL = "SELECT payload FROM {db}.signals FINAL WHERE input = 'silence' ORDER BY received_at"

EVENTS_SQL = """
SELECT DISTINCT event_id, incident_id, toUnixTimestamp64Milli(at) AS at
FROM {db}.incident_events
WHERE incident_id IN (
    SELECT incident_id FROM {db}.incident_events WHERE kind = 'opened' AND at >= fromUnixTimestamp64Milli({since})
)
"""


def stored_inputs(
    client: Client, database: str, since_ms: int, service: str = ""
) -> Iterator[tuple[str, str, int, str, str, str, str]]:
    """(token, key, arrival ms, input kind, fingerprint, content, payload) of every kept input
    and every tick that changed a key since ``since_ms`` (an exact re-send has ``content``
    instead of ``payload``); with ``service``, those of the keys that ever saw that service
    (commands included). Streamed in blocks: a month of inputs need not fit in memory."""
    tokens = TOKENS_SQL.format(db=database, service=quote(service)) if service else ""
    with client.query_row_block_stream(INPUTS_SQL.format(db=database, since=int(since_ms), tokens=tokens)) as blocks:
        for block in blocks:
            yield from block


def recorded_events(client: Client, database: str, opened_from: int) -> list[tuple[str, str, int]]:
    """(event id, incident id, at ms) of every event of the incidents opened since ``opened_from``."""
    return client.query(EVENTS_SQL.format(db=database, since=int(opened_from))).result_rows


def stored_silences(client: Client, database: str) -> list[str]:
    """Every silence version the engine applied (payloads), of any time: few, and a replay
    needs those made before its window too."""
    return [row[0] for row in client.query(SILENCES_SQL.format(db=database)).result_rows]
