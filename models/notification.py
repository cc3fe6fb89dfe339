"""What one lifecycle event tells whom: notifications, their ids, bodies and retry delays.

Pure: the ``notify`` role (``streams/agents/notify.py``) plans from the published event
(``LifecycleEvent.to_dict``) and delivers. An ``escalated`` or ``update_due`` event names its
channels itself (the engine recorded them), so a policy change between the page and its
delivery changes nobody's page. Other kinds go to the route's audience when the route's
``on`` lists them. A notification's id comes from the event id, its step and its channel:
a retry, a redelivery or a second worker sends the same id, and a receiver drops repeats.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from models.notifications import MATCH_FIELDS, Channel, Delivery, Notifications

DEFAULT_TEXT = (
    "[{severity}] {title}: {what}\n"
    "service: {service} · status: {status} · at: {at}\n"
    "runbook: {runbook}\n"
    "acknowledge: {ack}"
)
#: Events tocsin itself makes about notifications: never announced (no loops).
OWN_KINDS = frozenset({"escalated", "update_due", "notified"})


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: str
    channel: str
    incident_id: str
    subject: str  # "escalated step 2" | "update_due 3" | the event's kind
    event: dict


def plan(event: dict, notifications: Notifications) -> list[Notification]:
    """The notifications ``event`` (a published lifecycle event) makes, one per channel."""
    kind, details = event["kind"], event.get("details") or {}
    if kind in ("escalated", "update_due"):
        names = [c for c in details.get("notify", "").split(",") if c]
        subject = (
            f"escalated step {details.get('step')}" if kind == "escalated" else f"update_due {details.get('update')}"
        )
    else:
        names, subject = _audience(event, notifications), kind
    return [
        Notification(notification_id(event["event_id"], subject, name), name, event["incident_id"], subject, event)
        for name in dict.fromkeys(names)
        if name in notifications.channels
    ]


def _audience(event: dict, notifications: Notifications) -> list[str]:
    if event["kind"] in OWN_KINDS:
        return []
    found = notifications.route_for({name: event[name] for name in MATCH_FIELDS})
    if found is None or event["kind"] not in found[1].on:
        return []
    route = found[1]
    paged_at_detection = {c for step in route.escalation if step.after_ms == 0 for c in step.notify}
    told = route.audience
    return [c for c in told if c not in paged_at_detection] if event["kind"] == "opened" else list(told)


def notification_id(event_id: str, subject: str, channel: str) -> str:
    return hashlib.sha256(f"{event_id}\x1f{subject}\x1f{channel}".encode()).hexdigest()[:32]


def fields(note: Notification, public_url: str) -> dict[str, str]:
    """What a template may name (``models.notifications.TEMPLATE_FIELDS``)."""
    event, details = note.event, note.event.get("details") or {}
    incident_id = note.incident_id
    what = {
        "escalated": f"paged (step {details.get('step')}, page {details.get('page')}), not acknowledged",
        "update_due": f"status update due (#{details.get('update')})",
    }.get(event["kind"], event["kind"].replace("_", " "))
    return {
        "kind": event["kind"],
        "what": what,
        "incident_id": incident_id,
        "title": event["title"],
        "severity": event["severity"],
        "status": event["status"],
        "service": event["service"],
        "services": ", ".join(event.get("services") or []),
        "at": event["at"] or "",
        "runbook": event.get("runbook_url") or "none",
        "ack": f"POST {public_url}/v1/incidents/{incident_id}/ack" if public_url else f"tocsin ack {incident_id}",
        "link": f"{public_url}/v1/incidents/{incident_id}" if public_url else "",
        "step": details.get("step", ""),
        "channel": note.channel,
    }


def text_of(note: Notification, channel: Channel, public_url: str) -> str:
    return (channel.template or DEFAULT_TEXT).format_map(defaultdict(str, fields(note, public_url)))


def body(note: Notification, channel: Channel, public_url: str) -> dict:
    """The request body: Slack's ``{"text"}``, or the generic webhook's JSON."""
    text = text_of(note, channel, public_url)
    if channel.type == "slack":
        return {"text": text}
    named = fields(note, public_url)
    return {
        "notification_id": note.notification_id,
        "channel": note.channel,
        "subject": note.subject,
        "text": text,
        "incident": {k: named[k] for k in ("incident_id", "title", "severity", "status", "service", "runbook")},
        "links": {"ack": named["ack"], "incident": named["link"], **(note.event.get("links") or {})},
        "event": note.event,
    }


def headers(note: Notification, channel: Channel) -> dict[str, str]:
    """Sent with every attempt: the id twice (``Idempotency-Key`` is what most receivers read)."""
    return {
        "Content-Type": "application/json",
        "Idempotency-Key": note.notification_id,
        "X-Tocsin-Notification-Id": note.notification_id,
        **dict(channel.headers),
    }


def retry_delays(delivery: Delivery) -> list[float]:
    """Seconds to wait before each retry: doubling from ``first_s``, capped at ``cap_s``, until
    they add up to ``give_up_s``. Empty when ``give_up_s`` is 0 (one attempt)."""
    delays, total, delay = [], 0.0, delivery.first_s
    while total + delay <= delivery.give_up_s:
        delays.append(delay)
        total += delay
        delay = min(delay * 2, delivery.cap_s)
    return delays
