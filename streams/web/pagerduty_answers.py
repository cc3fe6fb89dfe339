"""PagerDuty's answers on ``POST /v2/enqueue`` and ``/v2/change/enqueue``, so its clients work
unchanged.

PagerDuty's Events API v2 answers 202 ``{"status": "success", "message": "Event processed",
"dedup_key": …}`` and 400 ``{"status": "invalid event", "message": …, "errors": […]}``;
its client libraries read those fields (the ``dedup_key`` names the alert for a later
``acknowledge`` or ``resolve``). Everything else — parsing, publishing, 429/503 with
``Retry-After`` — is the ingest edge's.
"""

import orjson
from faust.web import Response, View

from models.parsers.pagerduty import dedup_key_of
from models.parsers.result import Parsed
from streams.web.answers import Answers


class PagerDutyAnswers(Answers):
    def invalid(self, view: View, reasons: list[dict]) -> Response:
        errors = [f"{r.get('reason', 'invalid')}: {r.get('detail', '')}".rstrip(": ") for r in reasons]
        return view.json(
            {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, status=400
        )

    def accepted(self, view: View, body: bytes, parsed: Parsed, summary: dict) -> Response:
        key = dedup_key_of(parsed.inputs[0], orjson.loads(body))
        return view.json({"status": "success", "message": "Event processed", "dedup_key": key}, status=202)


class PagerDutyChangeAnswers(PagerDutyAnswers):
    """``POST /v2/change/enqueue``: PagerDuty answers a change event without a dedup key."""

    def accepted(self, view: View, body: bytes, parsed: Parsed, summary: dict) -> Response:
        return view.json({"status": "success", "message": "Change event processed"}, status=202)


PAGERDUTY = PagerDutyAnswers()
PAGERDUTY_CHANGE = PagerDutyChangeAnswers()
