"""``tocsin.alerts`` carries several formats; this recognises each by its shape.

| shape                                         | format                         |
|-----------------------------------------------|--------------------------------|
| object with ``alerts``                        | Alertmanager webhook           |
| object with ``specversion``                   | CloudEvents 1.0 structured     |
| list of objects with ``specversion``          | CloudEvents 1.0 batch          |
| object with ``event_action``                  | PagerDuty Events API v2        |
| object with ``labels`` and no ``service``, or a list of them | Prometheus / Alertmanager API v2 alert(s) |
| any other object                              | generic tocsin signal          |
"""

from collections.abc import Mapping

from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.parsers import alertmanager, cloudevents, generic, pagerduty
from models.parsers.fields import NO_DEDUP, decode_json, guarded, require_object
from models.parsers.result import Parsed
from models.parsers.typed_alerts import parse_typed


def parse_alerts(
    raw: bytes,
    limits: Limits,
    now: int,
    dedup: Mapping[str, tuple[str, ...]] = NO_DEDUP,
    routes: pagerduty.Routes = pagerduty.NO_ROUTES,
    types: cloudevents.Types = (),
) -> Parsed:
    """Parse one message of ``tocsin.alerts``; ``now`` is its arrival time (epoch ms);
    ``dedup``: the policy's identity fields by source (``dedup.fields``); ``routes``: the
    policy's ``pagerduty.routing_keys``; ``types``: its ``cloudevents.types``."""

    def parse() -> Parsed:
        fast = parse_typed(raw, limits, now) if len(raw) <= limits.max_payload_bytes else None
        if fast is not None:
            return fast
        data = decode_json(raw, limits)
        if isinstance(data, list):
            if data and isinstance(data[0], dict) and "specversion" in data[0]:
                return cloudevents.parse_batch(data, limits, now, dedup, routes, types)
            return alertmanager.parse_api_alerts(data, limits, now)
        data = require_object(data)
        if "alerts" in data:
            return alertmanager.parse_webhook(data, limits, now)
        if "specversion" in data:
            return cloudevents.parse_cloudevent(data, limits, now, dedup, routes, types)
        if "event_action" in data:
            return pagerduty.parse_event(data, limits, now, dedup.get(pagerduty.SOURCE, ()), routes)
        if "labels" in data and "service" not in data:  # a generic signal may carry labels too
            return alertmanager.parse_api_alerts([data], limits, now)
        if not data:
            raise RejectedInput(Reason.MISSING_FIELD, "empty object")
        return generic.parse_signal(data, limits, now, dedup.get(generic.SOURCE, ()))

    return guarded(parse)
