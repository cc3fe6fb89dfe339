"""Lifecycle events: what tocsin publishes about an incident, one versioned schema.

``event_id`` is derived from (incident id, kind, seq), so a replay or a re-send of the
same event carries the same id and downstream stores can collapse duplicates. Every
event also carries the incident's current times and severity, so the latest event of an
incident (highest ``seq``) is its current state. See docs/events.md.
"""

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from models.timestamps import format_ms

SCHEMA_VERSION = 1
MAX_FINGERPRINTS = 100


class EventKind(StrEnum):
    OPENED = "opened"
    SIGNAL_ADDED = "signal_added"
    SIGNAL_RESOLVED = "signal_resolved"
    SEVERITY_CHANGED = "severity_changed"
    ACKNOWLEDGED = "acknowledged"
    ROLE_ASSIGNED = "role_assigned"
    NOTE_ADDED = "note_added"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    FLAPPING_STARTED = "flapping_started"
    FLAPPING_STOPPED = "flapping_stopped"
    SLA_BREACHED = "sla_breached"
    POSTMORTEM_DUE = "postmortem_due"
    CHANGE_NOTED = "change_noted"
    ESCALATED = "escalated"
    UPDATE_DUE = "update_due"
    NOTIFIED = "notified"


def event_id(incident_id: str, kind: EventKind, seq: int) -> str:
    """Content-derived event id: the same incident, kind and seq give the same id."""
    digest = hashlib.sha256(f"{incident_id}\x1f{kind}\x1f{seq}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One step in an incident's life, stamped with the event time that caused it."""

    event_id: str
    incident_id: str
    seq: int
    kind: EventKind
    at: int
    severity: str
    status: str
    service: str
    services: tuple[str, ...]
    title: str
    reasons: tuple[dict, ...]
    fingerprints: tuple[str, ...]
    fingerprint: str
    actor: str
    runbook_url: str
    root_cause: str
    detected_at: int
    acknowledged_at: int
    resolved_at: int
    closed_at: int
    response_deadline: int = 0
    resolution_deadline: int = 0
    details: dict[str, str] = field(default_factory=dict)
    signal_count: int = 0  # distinct signals the incident holds (``fingerprints`` lists the first 100)
    links: dict[str, str] = field(default_factory=dict)  # models.links: name → URL

    def to_dict(self) -> dict:
        """The published form: RFC 3339 times (0 → null), stable field names."""
        return {
            "schema": SCHEMA_VERSION,
            "event_id": self.event_id,
            "incident_id": self.incident_id,
            "seq": self.seq,
            "kind": str(self.kind),
            "at": format_ms(self.at),
            "severity": self.severity,
            "status": self.status,
            "service": self.service,
            "services": list(self.services),
            "title": self.title,
            "reasons": list(self.reasons),
            "fingerprints": list(self.fingerprints),
            "signal_count": self.signal_count,
            "fingerprint": self.fingerprint,
            "actor": self.actor,
            "runbook_url": self.runbook_url,
            "links": dict(self.links),
            "root_cause": self.root_cause,
            "detected_at": format_ms(self.detected_at),
            "acknowledged_at": _time(self.acknowledged_at),
            "resolved_at": _time(self.resolved_at),
            "closed_at": _time(self.closed_at),
            "response_deadline": _time(self.response_deadline),
            "resolution_deadline": _time(self.resolution_deadline),
            "details": dict(self.details),
        }


def _time(ms: int) -> str | None:
    return format_ms(ms) if ms else None
