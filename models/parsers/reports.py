"""User reports from support tooling: ``{"service", "reporter", "summary", "reported_at",
"channel": ticket|complaint|error-report}``, one object or a list."""

from models.limits import Limits
from models.parsers.fields import choice, decode_json, each, guarded, require_object, text, timestamp
from models.parsers.result import Parsed
from models.report import ReportChannel, UserReport


def parse_reports(raw: bytes, limits: Limits, now: int) -> Parsed:
    def parse() -> Parsed:
        data = decode_json(raw, limits)
        items = data if isinstance(data, list) else [data]
        return each(items, lambda item: read_report(item, limits, now), limits)

    return guarded(parse)


def read_report(item: object, limits: Limits, now: int) -> UserReport:
    data = require_object(item, "report")
    return UserReport(
        service=text(data, "service", limits),
        reporter=text(data, "reporter", limits),
        summary=text(data, "summary", limits),
        reported_at=timestamp(data, "reported_at", required=False, default=now),
        channel=choice(data, "channel", ReportChannel, default="ticket"),
    )
