"""Incident state owned by one correlation key; plain data that round-trips through JSON.

It lives in a Faust table keyed by correlation key, so ``to_dict``/``from_dict`` must be
lossless and stable.
"""

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(slots=True)
class AlertState:
    """The latest known activation of one fingerprint inside an incident."""

    starts_at: int
    firing: bool
    ends_at: int = 0


@dataclass(slots=True)
class IncidentState:
    incident_id: str
    service: str
    title: str
    opened_at: int
    seq: int = 0
    status: IncidentStatus = IncidentStatus.OPEN
    resolved_at: int = 0
    signal_count: int = 0
    alerts: dict[str, AlertState] = field(default_factory=dict)

    @property
    def all_resolved(self) -> bool:
        return not any(alert.firing for alert in self.alerts.values())


@dataclass(slots=True)
class KeyState:
    """Everything one correlation key remembers: its latest incident and past activations.

    ``resolved_starts`` maps a fingerprint to the start of its last resolved activation, so
    a late re-delivery of that activation's firing notice cannot reopen anything.
    """

    incident: IncidentState | None = None
    resolved_starts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "KeyState":
        if not data:
            return cls()
        incident = data.get("incident")
        if incident is not None:
            alerts = {fp: AlertState(**a) for fp, a in incident["alerts"].items()}
            incident = IncidentState(**{**incident, "alerts": alerts, "status": IncidentStatus(incident["status"])})
        return cls(incident=incident, resolved_starts=dict(data.get("resolved_starts", {})))
