"""Incident state: plain data that round-trips through JSON (it lives in a Faust table)."""

from dataclasses import dataclass, field
from enum import StrEnum


class IncidentStatus(StrEnum):
    """The seed's lifecycle: detection → response → investigation → resolution (→ post-mortem)."""

    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in (IncidentStatus.DETECTED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.INVESTIGATING)


@dataclass(slots=True)
class Member:
    """One signal inside an incident, with the facts severity rules read from it."""

    kind: str
    source: str
    service: str
    firing: bool
    starts_at: int
    ends_at: int = 0
    severity: str = ""
    impact: str = ""
    scope: str = ""
    workaround: str = ""
    check_outage: bool = False


@dataclass(slots=True)
class Incident:
    incident_id: str
    key: str
    title: str
    service: str
    detected_at: int
    opened_at: int
    status: IncidentStatus = IncidentStatus.DETECTED
    services: list[str] = field(default_factory=list)
    members: dict[str, Member] = field(default_factory=dict)
    last_fingerprint: str = ""
    seq: int = 0
    signal_count: int = 0
    severity: str = "P3"
    reasons: list[dict] = field(default_factory=list)
    severity_override: str = ""
    acknowledged_at: int = 0
    resolved_at: int = 0
    closed_at: int = 0
    roles: dict[str, str] = field(default_factory=dict)
    notes: int = 0
    runbook_url: str = ""
    root_cause: str = ""
    breaches: list[str] = field(default_factory=list)
    postmortems: list[str] = field(default_factory=list)
    postmortem_url: str = ""
    commands: list[str] = field(default_factory=list)
    reopened: int = 0

    def firing_members(self) -> list[str]:
        return [fp for fp, m in self.members.items() if m.firing]
