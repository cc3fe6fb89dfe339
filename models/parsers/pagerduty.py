"""PagerDuty Events API v2: ``trigger`` / ``acknowledge`` / ``resolve`` keyed by ``dedup_key``.

Accepting it lets PagerDuty-style senders switch without rewriting their monitors. The
service is ``custom_details.service``, else ``component``, else ``source``. A trigger
without ``dedup_key`` gets one derived from its content, as PagerDuty would assign one;
``acknowledge`` and ``resolve`` need the key. The ``routing_key`` is a credential: it is
checked for presence and never stored; the policy's ``pagerduty.routing_keys`` may name the
service (and team) a key stands for, as a PagerDuty service would, so an ``acknowledge`` or
``resolve`` (which rarely repeats the payload) reaches the service its trigger opened.
"""

import hashlib
from collections.abc import Mapping

import orjson

from models.errors import Reason, RejectedInput
from models.fingerprint import fingerprint
from models.limits import Limits
from models.links import links_of
from models.parsers.fields import decode_json, guarded, require_object, text, timestamp
from models.parsers.result import Parsed
from models.signal import Signal, SignalAck, SignalStatus

SOURCE = "pagerduty"
Route = Mapping[str, str]
Routes = Mapping[str, Route]
NO_ROUTES: Routes = {}
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


def parse_events_api(raw: bytes, limits: Limits, now: int, dedup_fields: tuple[str, ...], routes: Routes) -> Parsed:
    """A body posted to PagerDuty's own path (``/v2/enqueue``): one event, nothing else."""
    return guarded(lambda: parse_event(require_object(decode_json(raw, limits)), limits, now, dedup_fields, routes))


def dedup_key_of(item: Signal | SignalAck, event: dict) -> str:
    """The ``dedup_key`` PagerDuty answers with: the sender's, or the one derived for a trigger."""
    if isinstance(item, Signal) and item.annotations.get("dedup_key"):
        return item.annotations["dedup_key"]
    return str(event.get("dedup_key") or "")


def identity(dedup_key: str) -> str:
    """The signal fingerprint for a PagerDuty dedup key (a label set of one)."""
    return fingerprint({"dedup_key": dedup_key})


def parse_event(
    event: dict, limits: Limits, now: int, dedup_fields: tuple[str, ...] = (), routes: Routes = NO_ROUTES
) -> Parsed:
    """``dedup_fields``: what identifies a trigger sent without ``dedup_key`` (default: all
    of its content); ``routes``: the service (and team) each routing key stands for."""
    return guarded(lambda: Parsed(inputs=[_event(event, limits, now, dedup_fields, routes)]))


def _event(event: dict, limits: Limits, now: int, dedup_fields: tuple[str, ...], routes: Routes) -> Signal | SignalAck:
    route = routes.get(text(event, "routing_key", limits), {})
    action = text(event, "event_action", limits)
    if action not in ACTIONS:
        raise RejectedInput(Reason.INVALID_VALUE, f"event_action {action!r}")
    payload = event.get("payload") or {}
    if not isinstance(payload, dict):
        raise RejectedInput(Reason.WRONG_TYPE, "payload must be an object")
    dedup_key = text(event, "dedup_key", limits, required=action != "trigger")
    if action == "trigger":
        return _trigger(event, payload, dedup_key, limits, now, dedup_fields, route)
    service = route.get("service") or payload_service(payload, limits) or "unknown"
    if action == "acknowledge":
        return SignalAck(
            SOURCE,
            identity(dedup_key),
            service,
            now,
            actor=f"{SOURCE}:{text(event, 'client', limits, required=False) or 'sender'}",
        )
    return Signal(SOURCE, identity(dedup_key), SignalStatus.RESOLVED, 0, now, service, dedup_key)


def _trigger(
    event: dict, payload: dict, dedup_key: str, limits: Limits, now: int, fields: tuple[str, ...], route: Route
) -> Signal:
    summary = text(payload, "summary", limits)
    source = text(payload, "source", limits)
    severity = text(payload, "severity", limits).lower()
    if severity not in SEVERITIES:
        raise RejectedInput(Reason.INVALID_VALUE, f"payload.severity {severity!r}")
    labels = {
        name: value
        for name in ("source", "component", "group", "class")
        if (value := text(payload, name, limits, required=False))
    }
    labels["severity"] = severity
    if route.get("team"):
        labels["team"] = route["team"]
    labels.update(_details(payload.get("custom_details"), limits))
    if not dedup_key:
        if fields:
            named = {**labels, "summary": summary, "source": source}
            material = orjson.dumps([named.get(name, "") for name in fields])
        else:
            material = orjson.dumps([source, summary, labels], option=orjson.OPT_SORT_KEYS)
        dedup_key = hashlib.sha256(material).hexdigest()[:32]
    return Signal(
        source=SOURCE,
        fingerprint=identity(dedup_key),
        status=SignalStatus.FIRING,
        starts_at=timestamp(payload, "timestamp", required=False, default=now),
        ends_at=0,
        service=route.get("service") or payload_service(payload, limits) or source,
        title=summary,
        labels=labels,
        annotations={"summary": summary, "dedup_key": dedup_key},
        generator_url=text(event, "client_url", limits, required=False),
        severity=severity,
        links=links_of(attached_links(event)),
    )


def attached_links(event: dict) -> list[tuple[str, object]]:
    """PagerDuty's ``client_url``, ``links`` (href, text) and ``images`` (src, href, alt)."""
    pairs: list[tuple[str, object]] = [("source", event.get("client_url"))]
    for link in event.get("links") or []:
        if isinstance(link, dict):
            pairs.append((str(link.get("text") or "link"), link.get("href")))
    for image in event.get("images") or []:
        if isinstance(image, dict):
            pairs.append((str(image.get("alt") or "image"), image.get("href") or image.get("src")))
    return pairs


def payload_service(payload: dict, limits: Limits) -> str:
    details = payload.get("custom_details")
    if isinstance(details, dict) and isinstance(details.get("service"), str) and details["service"]:
        return details["service"]
    return text(payload, "component", limits, required=False) or text(payload, "source", limits, required=False)


def _details(details: object, limits: Limits) -> dict[str, str]:
    """``custom_details`` as labels: strings kept, other values JSON-encoded."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        return {"details": str(details)[: limits.max_value_length]}
    if len(details) > limits.max_labels:
        raise RejectedInput(Reason.TOO_MANY_LABELS, f"custom_details: {len(details)} > {limits.max_labels}")
    out = {}
    for key, value in details.items():
        rendered = value if isinstance(value, str) else orjson.dumps(value).decode()
        out[str(key)[: limits.max_name_length]] = rendered[: limits.max_value_length]
    return {k: v for k, v in out.items() if v}
