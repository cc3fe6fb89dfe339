"""Alertmanager's event recorder (``--enable-feature=event-recorder``, Kafka output, JSON).

Each record is one protojson ``Event``: ``{"@timestamp", "instance", "data": {<kind>: …}}``.
``alertCreated`` (an alert first inserted into Alertmanager's store) becomes a firing signal,
``alertResolved`` (removed from its group after its resolution was notified) a resolved one;
both with Alertmanager's fingerprint, the one its webhooks carry, so an alert is the same
alert whichever way it reached tocsin. Every other kind (notifications, silences, muting,
start-up) says nothing about an alert's state and is skipped.

A created alert's ``endsAt`` is only Alertmanager's resolve timeout (the recorder sends no
refresh), so it is not taken as a declared end: the alert fires until its resolved event.
"""

from collections.abc import Mapping

from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.parsers.alertmanager import parse_alert
from models.parsers.fields import decode_json, guarded, require_object
from models.parsers.result import Parsed

#: Event kinds that carry an alert's state: the path to the alert, and its status.
_ALERT_EVENTS = {"alertCreated": (("alert",), "firing"), "alertResolved": (("alert", "details"), "resolved")}


def parse_recorded_events(raw: bytes, limits: Limits, now: int) -> Parsed:
    """One record of the recorder's topic (one event, or several as JSON lines)."""

    def parse() -> Parsed:
        parsed = Parsed()
        for line in raw.splitlines():
            if line.strip():
                parsed.extend(parse_recorded_event(decode_json(line, limits), limits, now))
        return parsed

    return guarded(parse)


def parse_recorded_event(event: object, limits: Limits, now: int) -> Parsed:
    def parse() -> Parsed:
        data = require_object(require_object(event, "event").get("data"), "data")
        kind = next((k for k in _ALERT_EVENTS if k in data), None)
        if kind is None:
            return Parsed()
        path, status = _ALERT_EVENTS[kind]
        alert: object = data[kind]
        for name in path:
            alert = require_object(alert, name).get(name)
        return Parsed(inputs=[parse_alert(_as_webhook_alert(require_object(alert, "alert"), status), limits, now)])

    return guarded(parse)


def _as_webhook_alert(alert: Mapping, status: str) -> dict:
    """The recorded alert in the webhook's shape (labels as a map, fingerprint as hex)."""
    converted = {
        "status": status,
        "labels": _label_set(alert.get("labels"), "labels"),
        "annotations": _label_set(alert.get("annotations"), "annotations"),
        "startsAt": alert.get("startsAt"),
        "endsAt": alert.get("endsAt") if status == "resolved" else None,
    }
    fingerprint = alert.get("fingerprint")
    if fingerprint is not None:
        try:
            converted["fingerprint"] = f"{int(fingerprint):016x}"  # protojson writes a uint64 as a string
        except (TypeError, ValueError):
            raise RejectedInput(Reason.INVALID_VALUE, f"fingerprint {fingerprint!r}") from None
    return converted


def _label_set(value: object, name: str) -> dict[str, str]:
    """``{"labels": [{"key", "value"}, …]}`` → a map."""
    if value is None:
        return {}
    pairs = require_object(value, name).get("labels") or []
    if not isinstance(pairs, list):
        raise RejectedInput(Reason.WRONG_TYPE, f"{name}.labels must be a list")
    out = {}
    for pair in pairs:
        pair = require_object(pair, name)
        out[str(pair.get("key", ""))] = pair.get("value", "")
    return out
