"""``GET /v1/incidents``: incidents as ClickHouse sees them, through the running instance.

chDB allows one process per data directory, so other tools read through this endpoint
while ``tocsin up`` holds the embedded ClickHouse.
"""

import asyncio

import faust
from clickhouse_connect.driver.client import Client
from faust.web import Request, Response, View

from sinks.clickhouse.queries import list_incidents


def register(app: faust.App, client: Client, database: str) -> None:
    @app.page("/v1/incidents")
    class Incidents(View):
        async def get(self, request: Request) -> Response:
            open_only = request.query.get("open", "").lower() in ("1", "true", "yes")
            try:
                limit = min(int(request.query.get("limit", "100")), 10_000)
            except ValueError:
                return self.json({"error": "limit must be an integer"}, status=400)
            rows = await asyncio.to_thread(list_incidents, client, database, open_only=open_only, limit=limit)
            return self.json({"incidents": rows})
