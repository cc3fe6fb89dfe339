"""SLA targets and post-mortem deadlines, from detection time.

Breaches are facts about time, so each is stamped with its deadline, not with when a timer
noticed it, and recorded on the incident so it is emitted once, even across restarts.
"""

from models.incident import Incident, IncidentStatus
from models.policy import Policy

RESPONSE = "response"
RESOLUTION = "resolution"
INITIAL = "initial"
DETAILED = "detailed"


def deadlines(incident: Incident, policy: Policy) -> dict[str, int]:
    target = policy.sla.get(incident.severity)
    if target is None:
        return {}
    return {
        RESPONSE: incident.detected_at + target.response_ms,
        RESOLUTION: incident.detected_at + target.resolution_ms,
    }


def breaches_due(incident: Incident, policy: Policy, now: int) -> list[tuple[str, int]]:
    """(kind, deadline) of breaches that happened by ``now`` and were not yet emitted."""
    met = {
        RESPONSE: incident.acknowledged_at or incident.resolved_at,
        RESOLUTION: incident.resolved_at,
    }
    due = []
    for kind, deadline in deadlines(incident, policy).items():
        done_at = met[kind]
        missed = (done_at and done_at > deadline) or (not done_at and now >= deadline)
        if missed and kind not in incident.breaches:
            due.append((kind, deadline))
    return sorted(due, key=lambda item: item[1])


def postmortems_due(incident: Incident, policy: Policy, now: int) -> list[tuple[str, int]]:
    """(stage, due time) of post-mortem reminders due by ``now`` for a resolved P0/P1."""
    if incident.severity not in policy.postmortem_severities or not incident.resolved_at:
        return []
    if incident.status is IncidentStatus.CLOSED and incident.postmortem_url:
        return []
    stages = ((INITIAL, policy.postmortem_initial_ms), (DETAILED, policy.postmortem_detailed_ms))
    return [
        (stage, incident.resolved_at + offset)
        for stage, offset in stages
        if now >= incident.resolved_at + offset and stage not in incident.postmortems
    ]
