"""CloudEvents 1.0 structured JSON (``application/cloudevents+json``) wrapping any input,
one event or a batch (``application/cloudevents-batch+json``: a JSON array of events).

The ``type`` attribute says what ``data`` carries. The policy's ``cloudevents.types`` maps a
producer's own types (glob patterns, first match wins) to one of these formats; without a
match, the type's suffix decides:

| format (type suffix)             | data                             |
|----------------------------------|----------------------------------|
| ``alertmanager.webhook``         | an Alertmanager webhook payload  |
| ``prometheus.alert``             | a list of API v2 alerts          |
| ``pagerduty.event``              | a PagerDuty Events v2 event      |
| ``tocsin.signal``                | a generic tocsin signal          |
| ``tocsin.change``                | a change event (``changes``)     |

``data_base64`` is accepted in place of ``data``. Without its own time the event's
``time`` attribute is the arrival time the inner parser sees.
"""

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import replace
from fnmatch import fnmatchcase

import orjson

from models.errors import Reason, RejectedInput, Rejection
from models.limits import Limits
from models.parsers import alertmanager, changes, generic, pagerduty
from models.parsers.fields import NO_DEDUP, guarded, text, timestamp
from models.parsers.result import Parsed
from models.policy import CLOUDEVENT_FORMATS

SPEC_VERSION = "1.0"


#: The formats an event's ``data`` may have (the policy's ``cloudevents.types`` names them).
FORMATS = CLOUDEVENT_FORMATS

#: ``(type pattern, format)`` pairs, in the policy's order.
Types = tuple[tuple[str, str], ...]


def format_of(kind: str, types: Types = ()) -> str:
    """The format of events of type ``kind``: the first pattern that matches, else the suffix."""
    mapped = next((fmt for pattern, fmt in types if fnmatchcase(kind, pattern)), "")
    return mapped or next((fmt for fmt in FORMATS if kind.endswith(fmt)), "")


Reader = Callable[[object, Limits, int], Parsed]


def _inner(fmt: str, dedup: Mapping[str, tuple[str, ...]], routes: pagerduty.Routes) -> Reader:
    pagerduty_fields, generic_fields = dedup.get(pagerduty.SOURCE, ()), dedup.get(generic.SOURCE, ())
    table: dict[str, Reader] = {
        "alertmanager.webhook": lambda d, lim, now: alertmanager.parse_webhook(_obj(d), lim, now),
        "prometheus.alert": lambda d, lim, now: alertmanager.parse_api_alerts(_list(d), lim, now),
        "pagerduty.event": lambda d, lim, now: pagerduty.parse_event(_obj(d), lim, now, pagerduty_fields, routes),
        "tocsin.signal": lambda d, lim, now: generic.parse_signal(_obj(d), lim, now, generic_fields),
        "tocsin.change": lambda d, lim, now: Parsed(inputs=[changes.read_change(_obj(d), lim, now, routes)]),
    }
    return table[fmt]


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
    types: Types = (),
) -> Parsed:
    def parse() -> Parsed:
        if str(event.get("specversion")) != SPEC_VERSION:
            raise RejectedInput(Reason.UNSUPPORTED_VERSION, f"specversion {event.get('specversion')!r}")
        for name in ("id", "source"):
            text(event, name, limits)
        kind = text(event, "type", limits)
        fmt = format_of(kind, types)
        if not fmt:
            raise RejectedInput(Reason.UNSUPPORTED_TYPE, f"CloudEvents type {kind!r} (map it: cloudevents.types)")
        at = timestamp(event, "time", required=False, default=now)
        return _inner(fmt, dedup, routes)(_data(event), limits, at)

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


def parse_batch(
    events: list,
    limits: Limits,
    now: int,
    dedup: Mapping[str, tuple[str, ...]] = NO_DEDUP,
    routes: pagerduty.Routes = pagerduty.NO_ROUTES,
    types: Types = (),
) -> Parsed:
    """A batch of structured events: each parsed on its own, a bad one refused with its index."""
    if len(events) > limits.max_alerts:
        return Parsed.rejected(Rejection(Reason.TOO_MANY_ALERTS, f"{len(events)} events > {limits.max_alerts}"))
    parsed = Parsed()
    for index, event in enumerate(events):
        one = parse_cloudevent(event, limits, now, dedup, routes, types) if isinstance(event, dict) else None
        if one is None:
            parsed.rejections.append(Rejection(Reason.NOT_AN_OBJECT, "event is not an object", index, event))
            continue
        parsed.inputs += one.inputs
        parsed.rejections += [replace(r, index=index) if r.index is None else r for r in one.rejections]
    return parsed
