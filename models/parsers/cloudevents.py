"""CloudEvents 1.0 structured JSON (``application/cloudevents+json``) wrapping any input.

The ``type`` attribute says what ``data`` carries:

| type (suffix match)              | data                             |
|----------------------------------|----------------------------------|
| ``alertmanager.webhook``         | an Alertmanager webhook payload  |
| ``prometheus.alert``             | a list of API v2 alerts          |
| ``pagerduty.event``              | a PagerDuty Events v2 event      |
| ``tocsin.signal``                | a generic tocsin signal          |

``data_base64`` is accepted in place of ``data``. Without its own time the event's
``time`` attribute is the arrival time the inner parser sees.
"""

import base64
import binascii
from collections.abc import Callable, Mapping

import orjson

from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.parsers import alertmanager, generic, pagerduty
from models.parsers.fields import NO_DEDUP, guarded, text, timestamp
from models.parsers.result import Parsed

SPEC_VERSION = "1.0"


def _inner(
    kind: str, dedup: Mapping[str, tuple[str, ...]], routes: pagerduty.Routes
) -> Callable[[object, Limits, int], Parsed] | None:
    pagerduty_fields, generic_fields = dedup.get(pagerduty.SOURCE, ()), dedup.get(generic.SOURCE, ())
    table: dict[str, Callable[[object, Limits, int], Parsed]] = {
        "alertmanager.webhook": lambda d, lim, now: alertmanager.parse_webhook(_obj(d), lim, now),
        "prometheus.alert": lambda d, lim, now: alertmanager.parse_api_alerts(_list(d), lim, now),
        "pagerduty.event": lambda d, lim, now: pagerduty.parse_event(_obj(d), lim, now, pagerduty_fields, routes),
        "tocsin.signal": lambda d, lim, now: generic.parse_signal(_obj(d), lim, now, generic_fields),
    }
    return next((parse for suffix, parse in table.items() if kind.endswith(suffix)), None)


def _obj(data: object) -> dict:
    if not isinstance(data, dict):
        raise RejectedInput(Reason.WRONG_TYPE, "data must be an object")
    return data


def _list(data: object) -> list:
    return data if isinstance(data, list) else [_obj(data)]


def parse_cloudevent(
    event: dict,
    limits: Limits,
    now: int,
    dedup: Mapping[str, tuple[str, ...]] = NO_DEDUP,
    routes: pagerduty.Routes = pagerduty.NO_ROUTES,
) -> Parsed:
    def parse() -> Parsed:
        if str(event.get("specversion")) != SPEC_VERSION:
            raise RejectedInput(Reason.UNSUPPORTED_VERSION, f"specversion {event.get('specversion')!r}")
        for name in ("id", "source"):
            text(event, name, limits)
        kind = text(event, "type", limits)
        parse_inner = _inner(kind, dedup, routes)
        if parse_inner is None:
            raise RejectedInput(Reason.UNSUPPORTED_TYPE, f"CloudEvents type {kind!r}")
        at = timestamp(event, "time", required=False, default=now)
        return parse_inner(_data(event), limits, at)

    return guarded(parse)


def _data(event: dict) -> object:
    if "data" in event:
        return event["data"]
    encoded = event.get("data_base64")
    if not isinstance(encoded, str):
        raise RejectedInput(Reason.MISSING_FIELD, "data")
    try:
        return orjson.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, orjson.JSONDecodeError) as exc:
        raise RejectedInput(Reason.INVALID_VALUE, f"data_base64: {exc}") from None
