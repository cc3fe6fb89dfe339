"""Health-check and smoke/integration-test results: one object, a list, or ``{"results": [...]}``.

``{"check", "service", "status": pass|warn|fail, "observed_at", "probe"?, "region"?,
"latency_ms"?, "message"?, "kind"?: health|smoke|integration}``
"""

from models.check import CheckResult, CheckStatus
from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.parsers.fields import choice, decode_json, each, guarded, require_object, text, timestamp
from models.parsers.result import Parsed

KINDS = ("health", "smoke", "integration")


def parse_checks(raw: bytes, limits: Limits, now: int) -> Parsed:
    def parse() -> Parsed:
        data = decode_json(raw, limits)
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"]
        items = data if isinstance(data, list) else [data]
        return each(items, lambda item: read_check(item, limits, now), limits)

    return guarded(parse)


def read_check(item: object, limits: Limits, now: int) -> CheckResult:
    data = require_object(item, "check result")
    kind = text(data, "kind", limits, required=False, default="health")
    if kind not in KINDS:
        raise RejectedInput(Reason.INVALID_VALUE, f"kind {kind!r}")
    latency = data.get("latency_ms")
    if latency is not None and (isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0):
        raise RejectedInput(Reason.WRONG_TYPE, "latency_ms must be a non-negative number")
    return CheckResult(
        check=text(data, "check", limits),
        service=text(data, "service", limits),
        status=choice(data, "status", CheckStatus),
        observed_at=timestamp(data, "observed_at", required=False, default=now),
        probe=text(data, "probe", limits, required=False),
        region=text(data, "region", limits, required=False),
        latency_ms=float(latency) if latency is not None else None,
        message=text(data, "message", limits, required=False)[:1024],
        kind=kind,
    )
