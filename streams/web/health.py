"""``GET /healthz`` (the process serves), ``GET /readyz`` (partitions assigned, tables
recovered; lists the partitions this process owns) and ``GET /metrics`` (Prometheus
exposition)."""

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.lag import export_lag
from streams.metrics import RECOVERY_COMPLETE


def is_ready(app: faust.App) -> bool:
    """Ready once the consumer owns partitions (if the process reads any topic) and every
    table finished recovery. A process with only the ``api`` role reads nothing."""
    recovered = app.tables.recovery.completed.is_set()
    RECOVERY_COMPLETE.set(1 if recovered else 0)
    joined = not app.agents or bool(app.consumer.assignment())
    return not app.rebalancing and joined and recovered


def owned(app: faust.App) -> dict[str, list[int]]:
    """Partitions of each topic this process consumes now: which worker holds what."""
    partitions: dict[str, list[int]] = {}
    for tp in sorted(app.consumer.assignment()):
        partitions.setdefault(tp.topic, []).append(tp.partition)
    return partitions


def register(app: faust.App) -> None:
    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    @app.page("/readyz")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready = is_ready(app)
            return self.json({"ready": ready, "partitions": owned(app)}, status=200 if ready else 503)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            is_ready(app)
            await export_lag(app)
            return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])
