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
    performance: str = ""
    order: int = 0  # when it joined: restores ``Incident.members`` in its order from split storage


@dataclass(slots=True)
class Tally:
    """Running counts over an incident's members (see ``models.membership``).

    Severity facts, services and auto-resolution read these instead of walking every
    member, so an incident of 100,000 signals costs the same per signal as one of ten.
    """

    services: dict[str, int] = field(default_factory=dict)
    failing: dict[str, int] = field(default_factory=dict)  # firing members by service
    impact: dict[str, int] = field(default_factory=dict)
    performance: dict[str, int] = field(default_factory=dict)
    scope: dict[str, int] = field(default_factory=dict)
    workaround: dict[str, int] = field(default_factory=dict)
    source_severity: dict[str, int] = field(default_factory=dict)  # of alerts (not reports)
    failing_checks: int = 0
    check_outages: int = 0
    reports: int = 0
    blocking_firing: int = 0  # firing members that are not user reports


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
    tally: Tally = field(default_factory=Tally)
    joined: int = 0  # members ever added: the next member's ``order``
    active_at: int = 0  # the latest signal activity (a member firing or resolving): ``correlation.quiet``
    links: dict[str, str] = field(default_factory=dict)  # models.links: the first URL seen per name
    pages: dict[str, int] = field(default_factory=dict)  # models.escalation: pages sent per "route.step"
    updates: int = 0  # status-update reminders sent

    def firing_members(self) -> list[str]:
        return [fp for fp, m in self.members.items() if m.firing]
