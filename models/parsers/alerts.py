"""``tocsin.alerts`` carries several formats; this recognises each by its shape.

| shape                                         | format                         |
|-----------------------------------------------|--------------------------------|
| object with ``alerts``                        | Alertmanager webhook           |
| object with ``specversion``                   | CloudEvents 1.0 structured     |
| object with ``event_action``                  | PagerDuty Events API v2        |
| object with ``labels``, or a list of them     | Prometheus / Alertmanager API v2 alert(s) |
| any other object                              | generic tocsin signal          |
"""

from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.parsers import alertmanager, cloudevents, generic, pagerduty
from models.parsers.fields import decode_json, guarded, require_object
from models.parsers.result import Parsed


def parse_alerts(raw: bytes, limits: Limits, now: int, dedup_fields: tuple[str, ...] = ()) -> Parsed:
    """Parse one message of ``tocsin.alerts``; ``now`` is its arrival time (epoch ms)."""

    def parse() -> Parsed:
        data = decode_json(raw, limits)
        if isinstance(data, list):
            return alertmanager.parse_api_alerts(data, limits, now)
        data = require_object(data)
        if "alerts" in data:
            return alertmanager.parse_webhook(data, limits, now)
        if "specversion" in data:
            return cloudevents.parse_cloudevent(data, limits, now)
        if "event_action" in data:
            return pagerduty.parse_event(data, limits, now)
        if "labels" in data:
            return alertmanager.parse_api_alerts([data], limits, now)
        if not data:
            raise RejectedInput(Reason.MISSING_FIELD, "empty object")
        return generic.parse_signal(data, limits, now, dedup_fields)

    return guarded(parse)
