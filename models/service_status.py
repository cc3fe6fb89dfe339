"""Per-service status for status pages, derived from open incidents.

The worst open incident touching a service decides: P0 → major outage, P1 → partial
outage, P2/P3 → degraded; no open incident → operational.
"""

from enum import StrEnum

from models.state import KeyState


class ServiceStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


_BY_SEVERITY = {
    "P0": ServiceStatus.MAJOR_OUTAGE,
    "P1": ServiceStatus.PARTIAL_OUTAGE,
    "P2": ServiceStatus.DEGRADED,
    "P3": ServiceStatus.DEGRADED,
}
_ORDER = list(ServiceStatus)


def service_statuses(state: KeyState) -> dict[str, ServiceStatus]:
    """Status of every service this key knows of (its incidents' services)."""
    statuses: dict[str, ServiceStatus] = {}
    for incident in state.incidents.values():
        for service in incident.services or [incident.service]:
            current = statuses.get(service, ServiceStatus.OPERATIONAL)
            if incident.status.is_open:
                worse = _BY_SEVERITY.get(incident.severity, ServiceStatus.DEGRADED)
                current = max(current, worse, key=_ORDER.index)
            statuses[service] = current
    return dict(sorted(statuses.items()))


def changed_statuses(before: dict[str, ServiceStatus], after: dict[str, ServiceStatus]) -> dict[str, ServiceStatus]:
    """Services whose status changed; a service that vanished is operational again."""
    changed = {s: v for s, v in after.items() if before.get(s, ServiceStatus.OPERATIONAL) != v}
    changed.update({s: ServiceStatus.OPERATIONAL for s, v in before.items() if s not in after and v != "operational"})
    return dict(sorted(changed.items()))
