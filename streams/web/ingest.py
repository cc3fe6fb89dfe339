"""HTTP ingest: ``POST /v1/alertmanager``, ``/v1/events``, ``/v1/checks``, ``/v1/reports``,
``/v1/changes``, PagerDuty's ``/v2/enqueue`` and ``/v2/change/enqueue``, Alertmanager's
``/api/v2/alerts`` (where Prometheus sends alerts) and ``/v1/incidents/{id}/{action}``.

Each endpoint reads the whole body (up to ``Limits.max_payload_bytes``, 16 MiB by
default), validates it with the parser the ingest agents use, and writes the engine-ready
inputs straight to ``tocsin.signals`` — one record per partition (inputs grouped by key token inside),
under Kafka's size limit — so an accepted request costs no second parse and no extra broker hop. It
answers 202 once the broker acknowledged every record.

Status codes follow what senders do with them (Alertmanager retries 5xx and 429 and drops
other 4xx): 400 with the reasons when nothing in the body is usable, 413 for a body over
the cap (it can never succeed), 401/403 without a token with the ``ingest`` scope (``operate``
for commands) once tokens are configured (``streams.web.auth``), 429 with
``Retry-After`` while too many bytes are being processed, 503 with ``Retry-After`` when
the broker does not take the records. Items refused inside an otherwise good body are
listed in the answer and dead-lettered once for the request.

A command (``/v1/incidents/{id}/{action}``) waits up to 5 s for the engine's decision: 200
with the resulting events (or for a repeat of a command already applied), 404 for an
incident the engine does not know, 409 for an action its state does not allow, 202 when
the decision did not come in time (the engine runs in another process, or is behind).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import faust
import orjson
from faust.web import Request, Response, View

from models.limits import Limits
from models.parsers import Parsed
from models.policy import Policy
from streams import tracing
from streams.agents.ingest import PARSERS
from streams.cloudevents_binding import HTTP_PREFIX, structured
from streams.dlq import dead_letter
from streams.metrics import HTTP_OVERLOADED, INGESTED
from streams.outcomes import Outcomes
from streams.routing import send_all, signal_records
from streams.web.answers import TOCSIN, Answers
from streams.web.auth import Access
from streams.web.body import BodyTooLarge, read_capped
from streams.web.command_answer import command_answer, expect_outcome, forget_outcome
from streams.web.pagerduty_answers import PAGERDUTY, PAGERDUTY_CHANGE

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "1"


@dataclass
class Admission:
    """Bytes of request bodies being processed at once; above ``limit`` new ones get 429."""

    limit: int
    in_flight: int = 0

    def admit(self, size: int) -> bool:
        if self.in_flight and self.in_flight + size > self.limit:
            return False
        self.in_flight += size
        return True

    def release(self, size: int) -> None:
        self.in_flight -= size


@dataclass
class Edge:
    """What every ingest endpoint shares: where inputs go, the limits, the policy, auth."""

    signals: faust.TopicT
    dlq: faust.TopicT
    limits: Limits
    policy: Policy
    access: Access
    partitions: int
    outcomes: Outcomes | None = None
    admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(4 * self.limits.max_payload_bytes)


class Refused(Exception):
    """The request cannot be accepted; ``response`` says why."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _retry_later(view: View, error: str, status: int, trace_id: str = "") -> Response:
    response = view.json({"error": error, "trace_id": trace_id}, status=status)
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


async def read_body(view: View, request: Request, edge: Edge, scope: str) -> tuple[bytearray, str]:
    """The whole body and the name of the token that sent it ("" with an open API)."""
    status, who = edge.access.check(request, scope)
    if status:
        raise Refused(view.json({"error": who}, status=status))
    try:
        return await read_capped(request, edge.limits.max_payload_bytes), who
    except BodyTooLarge as exc:
        limit = edge.limits.max_payload_bytes
        raise Refused(
            view.json({"error": "payload too large", "bytes": exc.args[0], "limit": limit}, status=413)
        ) from None


def parse_body(view: View, kind: str, body: bytes, edge: Edge, now: int, answers: Answers = TOCSIN) -> Parsed:
    parsed = PARSERS[kind](body, edge.limits, now, edge.policy)
    if not parsed.inputs:
        reasons = [r.to_dict() for r in parsed.rejections[:100]] or [{"reason": "no_inputs"}]
        raise Refused(answers.invalid(view, reasons))
    return parsed


async def accept(
    view: View, request: Request, kind: str, body: bytes, edge: Edge, answers: Answers = TOCSIN
) -> Response:
    """Parse, publish to the signals topic, dead-letter refused items; the HTTP answer."""
    now = int(time.time() * 1000)
    trace_id = tracing.from_http(request.headers)
    if kind == "alerts":  # a CloudEvent in binary mode carries its attributes in headers
        body = structured(request.headers.items(), body, HTTP_PREFIX) or body
    parsed = parse_body(view, kind, body, edge, now, answers)
    records, too_big = signal_records(parsed.inputs, now, edge.policy, edge.partitions)
    refused = parsed.rejections + too_big
    source = f"http:{request.path}"
    context = {"trace_id": trace_id, "source_topic": source, "remote": request.remote}
    awaited = expect_outcome(edge.outcomes, parsed)
    try:
        if refused:
            await dead_letter(edge.dlq, body, refused, source=source, trace_id=trace_id)
        await send_all(edge.signals, records, tracing.kafka_headers(trace_id))
    except Exception as exc:  # the broker did not take it: tell the sender to retry
        log.warning("publish failed: %r", exc, extra=context)
        forget_outcome(edge.outcomes, awaited)
        return _retry_later(view, "broker unavailable, retry", 503, trace_id)
    if awaited is not None:
        return await command_answer(view, edge.outcomes, awaited, trace_id)
    accepted = len(parsed.inputs) - len(too_big)
    INGESTED.labels(source).inc(accepted)
    log.debug("accepted %d inputs in %d records", accepted, len(records), extra=context)
    summary = {
        "accepted": accepted,
        "rejected": len(refused),
        "rejections": [r.to_dict() for r in refused[:100]],
        "records": len(records),
        "trace_id": trace_id,
    }
    return answers.accepted(view, body, parsed, summary)


async def handle(
    view: View,
    request: Request,
    kind: str,
    edge: Edge,
    body_of: Callable | None = None,
    answers: Answers = TOCSIN,
) -> Response:
    """Admission, body, parse, publish — one code path for every ingest endpoint."""
    size = request.content_length or 0
    if not edge.admission.admit(size):
        HTTP_OVERLOADED.inc()
        return _retry_later(view, "busy, retry", 429)
    try:
        body, who = await read_body(view, request, edge, "operate" if kind == "commands" else "ingest")
        if body_of is not None:
            body = body_of(body, who)
        return await accept(view, request, kind, body, edge, answers)
    except Refused as refused:
        return refused.response
    finally:
        edge.admission.release(size)


def register_endpoint(app: faust.App, path: str, kind: str, edge: Edge, answers: Answers = TOCSIN) -> None:
    class Ingest(View):
        async def post(self, request: Request) -> Response:
            return await handle(self, request, kind, edge, answers=answers)

    Ingest.__name__ = f"Ingest_{kind}_{path.rsplit('/', 1)[-1]}"
    app.page(path)(Ingest)


def command_body(given: bytes, incident_id: str, action: str, who: str = "") -> bytes:
    """The command as the commands parser reads it: the body's fields plus the URL's; the
    actor defaults to the name of the token that sent it."""
    try:
        fields = orjson.loads(given) if given.strip() else {}
    except orjson.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise Refused(Response())  # replaced by the caller with a 400
    defaults = {"actor": who} if who else {}
    return orjson.dumps({**defaults, **fields, "action": action, "incident_id": incident_id})


def register_commands(app: faust.App, edge: Edge) -> None:
    @app.page("/v1/incidents/{incident_id}/{action}")
    class IncidentCommand(View):
        async def post(self, request: Request, incident_id: str, action: str) -> Response:
            def body_of(given: bytes, who: str) -> bytes:
                try:
                    return command_body(given, incident_id, action, who)
                except Refused:
                    raise Refused(self.json({"error": "body must be a JSON object"}, status=400)) from None

            return await handle(self, request, "commands", edge, body_of)


def register(
    app: faust.App,
    signals: faust.TopicT,
    dlq: faust.TopicT,
    limits: Limits,
    policy: Policy,
    access: Access,
    partitions: int,
    outcomes: Outcomes | None = None,
) -> Edge:
    edge = Edge(signals, dlq, limits, policy, access, partitions, outcomes)
    for path, kind in (
        ("/v1/alertmanager", "alerts"),
        ("/v1/events", "alerts"),
        ("/v1/checks", "checks"),
        ("/v1/reports", "reports"),
        ("/v1/changes", "changes"),
        ("/api/v2/alerts", "alerts"),  # Alertmanager's own path: Prometheus alerts tocsin directly
    ):
        register_endpoint(app, path, kind, edge)
    register_endpoint(app, "/v2/enqueue", "pagerduty", edge, PAGERDUTY)
    register_endpoint(app, "/v2/change/enqueue", "changes", edge, PAGERDUTY_CHANGE)
    register_commands(app, edge)
    return edge
