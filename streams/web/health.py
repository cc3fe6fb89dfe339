"""``GET /healthz`` (the process serves) and ``GET /readyz`` (partitions assigned, tables recovered)."""

import faust
from faust.web import Request, Response, View


def is_ready(app: faust.App) -> bool:
    """Ready once the consumer owns partitions and every table finished recovery."""
    consumer = app.consumer
    return not app.rebalancing and bool(consumer.assignment()) and app.tables.recovery.completed.is_set()


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
