"""``GET /healthz`` (the process serves), ``GET /readyz`` (partitions assigned, tables
recovered) and ``GET /metrics`` (Prometheus exposition)."""

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.lag import export_lag
from streams.metrics import RECOVERY_COMPLETE


def is_ready(app: faust.App) -> bool:
    """Ready once the consumer owns partitions and every table finished recovery."""
    recovered = app.tables.recovery.completed.is_set()
    RECOVERY_COMPLETE.set(1 if recovered else 0)
    return not app.rebalancing and bool(app.consumer.assignment()) and recovered


def register(app: faust.App) -> None:
    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    @app.page("/readyz")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready = is_ready(app)
            return self.json({"ready": ready}, status=200 if ready else 503)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            is_ready(app)
            await export_lag(app)
            return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])
