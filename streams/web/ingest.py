"""HTTP ingest: ``POST /v1/alertmanager``, ``/v1/events``, ``/v1/checks``, ``/v1/reports``
and ``/v1/incidents/{id}/{action}``.

Each endpoint validates the body with the same parser the ingest agent uses (400 with the
reasons when nothing in it is usable, 413 above the size cap, 401 without the configured
bearer token), publishes it verbatim to its topic, and answers 202 only once the broker
acknowledged it (503 when the broker refuses, so the sender retries). Items refused inside
an otherwise good body are counted in the answer and dead-lettered by the agent.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import faust
import orjson
from faust.web import Request, Response, View

from models.command import Command
from models.engine import routing_key
from models.limits import Limits
from models.parsers import Parsed
from models.policy import Policy
from streams import tracing
from streams.agents.ingest import PARSERS
from streams.web.auth import authorized
from streams.web.body import BodyTooLarge, read_capped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    path: str
    kind: str  # a key of streams.agents.ingest.PARSERS
    topic: faust.TopicT
    partition_key: Callable[[Parsed, Policy], str]


def alert_key(parsed: Parsed, policy: Policy) -> str:
    """Keep one Alertmanager group (or one correlation key) in order: same key, same partition."""
    return parsed.group_key or routing_key(parsed.inputs[0], policy)


def check_key(parsed: Parsed, policy: Policy) -> str:
    return parsed.inputs[0].check_id


def report_key(parsed: Parsed, policy: Policy) -> str:
    return parsed.inputs[0].service


async def publish(view: View, request: Request, topic: faust.TopicT, key: str, body: bytes, parsed: Parsed) -> Response:
    trace_id = tracing.from_http(request.headers)
    context = {"trace_id": trace_id, "topic": topic.get_topic_name()}
    try:
        metadata = await (await topic.send(key=key.encode(), value=body, headers=tracing.kafka_headers(trace_id)))
    except Exception as exc:  # the broker did not take it: tell the sender to retry
        log.warning("publish failed: %r", exc, extra=context)
        return view.json({"error": "broker unavailable, retry", "trace_id": trace_id}, status=503)
    log.debug("accepted %d inputs", len(parsed.inputs), extra=context)
    return view.json(
        {
            "accepted": len(parsed.inputs),
            "rejected": len(parsed.rejections),
            "rejections": [r.to_dict() for r in parsed.rejections],
            "partition": metadata.partition,
            "offset": metadata.offset,
            "trace_id": trace_id,
        },
        status=202,
    )


class Refused(Exception):
    """The request cannot be accepted; ``response`` says why."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def validated(
    view: View, request: Request, kind: str, limits: Limits, policy: Policy, token: str, body: bytes | None = None
) -> tuple[bytes, Parsed]:
    """The body and its parse; raises ``Refused`` with the error response instead."""
    if not authorized(request, token):
        raise Refused(view.json({"error": "missing or wrong bearer token"}, status=401))
    if body is None:
        try:
            body = await read_capped(request, limits.max_payload_bytes)
        except BodyTooLarge as exc:
            too_large = {"error": "payload too large", "bytes": exc.args[0], "limit": limits.max_payload_bytes}
            raise Refused(view.json(too_large, status=413)) from None
    parsed = PARSERS[kind](body, limits, int(time.time() * 1000), policy)
    if not parsed.inputs:
        reasons = [r.to_dict() for r in parsed.rejections] or [{"reason": "no_inputs"}]
        raise Refused(view.json({"error": "nothing usable in the body", "rejections": reasons}, status=400))
    return body, parsed


def register_endpoint(app: faust.App, endpoint: Endpoint, limits: Limits, policy: Policy, token: str) -> None:
    class Ingest(View):
        async def post(self, request: Request) -> Response:
            try:
                body, parsed = await validated(self, request, endpoint.kind, limits, policy, token)
            except Refused as refused:
                return refused.response
            return await publish(self, request, endpoint.topic, endpoint.partition_key(parsed, policy), body, parsed)

    Ingest.__name__ = f"Ingest_{endpoint.kind}_{endpoint.path.rsplit('/', 1)[-1]}"
    app.page(endpoint.path)(Ingest)


def register_commands(app: faust.App, topic: faust.TopicT, limits: Limits, policy: Policy, token: str) -> None:
    @app.page("/v1/incidents/{incident_id}/{action}")
    class IncidentCommand(View):
        async def post(self, request: Request, incident_id: str, action: str) -> Response:
            try:
                given = await read_capped(request, limits.max_payload_bytes)
                fields = orjson.loads(given) if given.strip() else {}
            except (BodyTooLarge, orjson.JSONDecodeError):
                return self.json({"error": "body must be a JSON object under the size cap"}, status=400)
            if not isinstance(fields, dict):
                return self.json({"error": "body must be a JSON object"}, status=400)
            body = orjson.dumps({**fields, "action": action, "incident_id": incident_id})
            try:
                body, parsed = await validated(self, request, "commands", limits, policy, token, body=body)
            except Refused as refused:
                return refused.response
            command: Command = parsed.inputs[0]
            return await publish(self, request, topic, command.incident_id, body, parsed)


def register(app: faust.App, topics: dict[str, faust.TopicT], limits: Limits, policy: Policy, token: str) -> None:
    endpoints = [
        Endpoint("/v1/alertmanager", "alerts", topics["alerts"], alert_key),
        Endpoint("/v1/events", "alerts", topics["alerts"], alert_key),
        Endpoint("/v1/checks", "checks", topics["checks"], check_key),
        Endpoint("/v1/reports", "reports", topics["reports"], report_key),
    ]
    for endpoint in endpoints:
        register_endpoint(app, endpoint, limits, policy, token)
    register_commands(app, topics["commands"], limits, policy, token)
