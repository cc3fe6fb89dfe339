"""Lifecycle events: what tocsin publishes about an incident, one versioned schema.

``event_id`` is derived from (incident id, kind, seq), so a replay or a re-send of the
same event carries the same id and downstream stores can collapse duplicates.
"""

import hashlib
from dataclasses import asdict, dataclass
from enum import StrEnum

from models.timestamps import format_ms

SCHEMA_VERSION = 1


class EventKind(StrEnum):
    OPENED = "opened"
    RESOLVED = "resolved"


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
    service: str
    title: str
    fingerprint: str
    status: str

    def to_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["at"] = format_ms(self.at)
        data["schema"] = SCHEMA_VERSION
        return data
