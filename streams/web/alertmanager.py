"""``POST /v1/alertmanager``: Alertmanager's webhook receiver.

Answers 202 only once the payload is on ``tocsin.alerts`` (broker-acknowledged), 400 with the
reasons when the body is unusable, 413 above the size cap, 503 when the broker refuses.
The payload is published verbatim: the ingest agent does the per-alert work, so the HTTP
path stays cheap and a replay of the topic reproduces everything.
"""

import logging

import faust
from faust.web import Request, Response, View
from models.alertmanager import ParseResult, parse_webhook

from models.limits import Limits
from streams.web.body import BodyTooLarge, read_capped

log = logging.getLogger(__name__)


def partition_key(result: ParseResult) -> bytes:
    """Keep one Alertmanager group's notifications in order: key by its ``groupKey``.

    Without one (other senders), the first alert's service keeps that service in order.
    """
    return (result.group_key or result.signals[0].service).encode()


def register(app: faust.App, alerts: faust.TopicT, limits: Limits) -> None:
    @app.page("/v1/alertmanager")
    class AlertmanagerWebhook(View):
        async def post(self, request: Request) -> Response:
            try:
                body = await read_capped(request, limits.max_payload_bytes)
            except BodyTooLarge as exc:
                return self.json(
                    {"error": "payload too large", "bytes": exc.args[0], "limit": limits.max_payload_bytes}, status=413
                )
            result = parse_webhook(body, limits)
            if not result.signals:
                reasons = [r.to_dict() for r in result.rejections] or [{"reason": "no_alerts"}]
                return self.json({"error": "no usable alert", "rejections": reasons}, status=400)
            try:
                metadata = await (await alerts.send(key=partition_key(result), value=body))
            except Exception as exc:  # the broker did not take it: tell the sender to retry
                log.warning("publish to %s failed: %r", alerts.get_topic_name(), exc)
                return self.json({"error": "broker unavailable"}, status=503)
            return self.json(
                {
                    "accepted": len(result.signals),
                    "rejected": len(result.rejections),
                    "partition": metadata.partition,
                    "offset": metadata.offset,
                },
                status=202,
            )
