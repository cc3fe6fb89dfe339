"""How an ingest endpoint words its answers (``streams.web.ingest``)."""

from faust.web import Response, View

from models.parsers.result import Parsed


class Answers:
    """How an endpoint words its answers: tocsin's own; senders that expect another service's
    (PagerDuty's ``/v2/enqueue``) get a subclass."""

    def invalid(self, view: View, reasons: list[dict]) -> Response:
        return view.json({"error": "nothing usable in the body", "rejections": reasons}, status=400)

    def accepted(self, view: View, body: bytes, parsed: Parsed, summary: dict) -> Response:
        return view.json(summary, status=202)


TOCSIN = Answers()
