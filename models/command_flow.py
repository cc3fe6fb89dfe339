"""Human commands on an incident: acknowledge, assign a role, set severity, note, resolve,
reopen, close.

Commands are idempotent by content (a re-delivered command is recognised by its id).
A command's time is clamped to the incident's detection time so that no duration is
negative when clocks disagree. Assigning a role to a detected incident acknowledges it (an
owner was assigned), and any role or note on an acknowledged incident moves it to
investigating. Closing an open incident resolves it first. ``notified`` is the notify role's
report of a delivered notification: it changes nothing but the timeline.
"""

from models.command import Action, Command
from models.context import Context
from models.errors import Reason
from models.escalation import emit_due
from models.incident import Incident, IncidentStatus
from models.lifecycle import EventKind
from models.signal import SignalAck
from models.signal_flow import reclassify, reopen, resolve
from models.state import Decision, Outcome

MAX_REMEMBERED_COMMANDS = 200


def on_command(ctx: Context, command: Command) -> Decision:
    incident = ctx.state.incidents.get(command.incident_id)
    if incident is None:
        return Decision(Outcome.REJECTED, str(Reason.UNKNOWN_INCIDENT), incident_id=command.incident_id)
    if command.command_id in incident.commands:
        return Decision(Outcome.DUPLICATE, incident_id=incident.incident_id)
    incident.commands = [*incident.commands, command.command_id][-MAX_REMEMBERED_COMMANDS:]
    ctx.touch_head()
    at = max(command.at, incident.detected_at)
    changed = _HANDLERS[command.action](ctx, incident, command, at)
    outcome = Outcome.ACCEPTED if changed else Outcome.IGNORED
    return Decision(
        outcome,
        "" if changed else f"{command.action} does not apply to a {incident.status} incident",
        incident_id=incident.incident_id,
    )


def on_signal_ack(ctx: Context, ack: SignalAck) -> Decision:
    """A source acknowledged a signal: acknowledge the incident holding it."""
    known = ctx.state.signals.get(ack.fingerprint)
    incident = ctx.state.incidents.get(known.incident_id) if known else None
    if incident is None:
        return Decision(Outcome.IGNORED, "no incident holds this signal", fingerprint=ack.fingerprint)
    changed = acknowledge(ctx, incident, max(ack.at, incident.detected_at), ack.actor)
    return Decision(
        Outcome.ACCEPTED if changed else Outcome.DUPLICATE,
        incident_id=incident.incident_id,
        fingerprint=ack.fingerprint,
    )


def acknowledge(ctx: Context, incident: Incident, at: int, actor: str) -> bool:
    if incident.status is not IncidentStatus.DETECTED:
        return False
    emit_due(ctx, incident, at)
    incident.status, incident.acknowledged_at = IncidentStatus.ACKNOWLEDGED, at
    ctx.emit(incident, EventKind.ACKNOWLEDGED, at, actor=actor)
    return True


def _ack(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    return acknowledge(ctx, incident, at, command.actor)


def _investigate(incident: Incident) -> None:
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        incident.status = IncidentStatus.INVESTIGATING


def _assign(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    if not incident.status.is_open or incident.roles.get(command.role) == command.assignee:
        return False
    acknowledge(ctx, incident, at, command.actor)
    incident.roles[command.role] = command.assignee
    _investigate(incident)
    ctx.emit(
        incident,
        EventKind.ROLE_ASSIGNED,
        at,
        actor=command.actor,
        details={"role": command.role, "assignee": command.assignee},
    )
    return True


def _severity(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    before = incident.severity
    if command.severity == "auto":
        if not incident.severity_override:
            return False
        incident.severity_override = ""
        reclassify(ctx, incident, at, announce=False)
        _announce(ctx, incident, command, at, before, "cleared")
        return True
    if incident.severity_override == command.severity and incident.severity == command.severity:
        return False
    incident.severity = incident.severity_override = command.severity
    incident.reasons = [{"rule": "manual", "facts": {"actor": command.actor, "note": command.text}}]
    _announce(ctx, incident, command, at, before, "set", always=True)
    return True


def _announce(
    ctx: Context, incident: Incident, command: Command, at: int, before: str, override: str, *, always: bool = False
) -> None:
    """Emit ``severity_changed`` for a human's setting (always) or clearing (if it changed)."""
    if always or incident.severity != before:
        details = {"from": before, "to": incident.severity, "override": override}
        ctx.emit(incident, EventKind.SEVERITY_CHANGED, at, actor=command.actor, details=details)


def _note(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    incident.notes += 1
    _investigate(incident)
    ctx.emit(incident, EventKind.NOTE_ADDED, at, actor=command.actor, details={"text": command.text})
    return True


def _resolve(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    if not incident.status.is_open:
        return False
    resolve(ctx, incident, at, actor=command.actor)
    return True


def _reopen(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    if incident.status.is_open:
        return False
    reopen(ctx, incident, at, actor=command.actor)
    return True


def _close(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    if incident.status is IncidentStatus.CLOSED:
        return False
    if incident.status.is_open:
        resolve(ctx, incident, at, actor=command.actor)
    incident.status, incident.closed_at = IncidentStatus.CLOSED, max(at, incident.resolved_at)
    incident.postmortem_url = command.postmortem_url or incident.postmortem_url
    details = {"postmortem_url": incident.postmortem_url} if incident.postmortem_url else {}
    ctx.emit(incident, EventKind.CLOSED, incident.closed_at, actor=command.actor, details=details)
    return True


def _notified(ctx: Context, incident: Incident, command: Command, at: int) -> bool:
    """Record who was told what, when: the timeline shows each page delivered."""
    details = {"channel": command.channel, "notification": command.text, "of": command.subject}
    ctx.emit(incident, EventKind.NOTIFIED, at, actor=command.actor, details=details)
    return True


_HANDLERS = {
    Action.ACK: _ack,
    Action.ASSIGN: _assign,
    Action.SEVERITY: _severity,
    Action.NOTE: _note,
    Action.RESOLVE: _resolve,
    Action.REOPEN: _reopen,
    Action.CLOSE: _close,
    Action.NOTIFIED: _notified,
}
