"""``GET /v1/incidents``, ``/v1/incidents/{id}``, ``/v1/incident-metrics``,
``/v1/incidents/{id}/postmortem``: ClickHouse through the running instance.

chDB allows one process per data directory, so the CLI and dashboards read through these
endpoints while ``tocsin up`` holds the embedded ClickHouse.
"""

import asyncio

import faust
from clickhouse_connect.driver.client import Client
from faust.web import Request, Response, View

from models.policy import Policy
from models.postmortem import render
from sinks.clickhouse.incident_detail import incident_detail
from sinks.clickhouse.queries import incident_events, incident_metrics, list_incidents
from streams.web.auth import Access


def register(app: faust.App, client: Client, database: str, policy: Policy, access: Access) -> None:
    lock = asyncio.Lock()  # one query at a time: chDB's client is not made for concurrent use

    async def run(function, *args, **kwargs):
        async with lock:
            return await asyncio.to_thread(function, *args, **kwargs)

    @app.page("/v1/incidents")
    class Incidents(View):
        async def get(self, request: Request) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            query = request.query
            try:
                limit = min(int(query.get("limit", "100")), 10_000)
            except ValueError:
                return self.json({"error": "limit must be an integer"}, status=400)
            rows = await run(
                list_incidents,
                client,
                database,
                open_only=query.get("open", "") in ("1", "true"),
                severity=query.get("severity", ""),
                limit=limit,
            )
            return self.json({"incidents": rows})

    @app.page("/v1/incident-metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            try:
                rows = await run(
                    incident_metrics,
                    client,
                    database,
                    policy.sla,
                    since=request.query.get("since", "30d"),
                    service=request.query.get("service", ""),
                )
            except ValueError as exc:
                return self.json({"error": str(exc)}, status=400)
            return self.json({"metrics": rows})

    @app.page("/v1/incidents/{incident_id}")
    class Incident(View):
        async def get(self, request: Request, incident_id: str) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            detail = await run(incident_detail, client, database, incident_id)
            if detail is None:
                return self.json({"error": f"no incident {incident_id}"}, status=404)
            return self.json(detail)

    @app.page("/v1/incidents/{incident_id}/postmortem")
    class Postmortem(View):
        async def get(self, request: Request, incident_id: str) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            events = await run(incident_events, client, database, incident_id)
            if not events:
                return self.json({"error": f"no incident {incident_id}"}, status=404)
            return self.json({"incident_id": incident_id, "markdown": render(events)})
