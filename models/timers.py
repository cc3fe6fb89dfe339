"""``tick``: what the passage of time does, given ``now`` from the caller's clock.

- Stale signals resolve: a firing signal whose declared ``endsAt`` passed resolves at
  that time; one not seen for its source's ``stale_after`` resolves at last-seen + timeout.
- Flapping signals that went quiet stop flapping; if they ended meanwhile, the incident
  may now resolve.
- SLA breaches are emitted once, stamped with their deadline.
- Post-mortem reminders for resolved P0/P1 incidents, stamped with their due time.
- Resolved incidents and idle signals are forgotten after the retention period.
"""

from models.context import Context
from models.flapping import quiet_since
from models.incident import Incident, IncidentStatus
from models.lifecycle import EventKind
from models.membership import end_member
from models.policy import Policy
from models.signal import SignalStatus
from models.signal_flow import emit_breaches, maybe_auto_resolve, reclassify
from models.sla import deadlines, postmortems_due
from models.state import KeyState


def run_timers(ctx: Context) -> None:
    for incident in list(ctx.state.incidents.values()):
        if incident.status.is_open:
            _expire_stale(ctx, incident)
            _stop_flapping(ctx, incident)
        if incident.status.is_open:
            emit_breaches(ctx, incident, ctx.now)
        _remind_postmortems(ctx, incident)
    _forget(ctx)


def _stale_end(ctx: Context, fp: str) -> int:
    known = ctx.state.signals.get(fp)
    if known is None or known.status != SignalStatus.FIRING:
        return 0
    if known.ends_at and known.ends_at <= ctx.now:
        return known.ends_at
    timeout = ctx.policy.stale_after_ms.get(known.source, 0)
    if timeout and ctx.now >= known.last_seen + timeout:
        return known.last_seen + timeout
    return 0


def _expire_stale(ctx: Context, incident: Incident) -> None:
    for fp in incident.firing_members():
        end = _stale_end(ctx, fp)
        if not end:
            continue
        known, member = ctx.state.signals[fp], incident.members[fp]
        end = max(end, member.starts_at)
        known.status, known.ends_at = str(SignalStatus.RESOLVED), end
        end_member(ctx, incident, fp, end)
        ended = len(incident.members) - sum(incident.tally.failing.values())
        ctx.announce(incident, EventKind.SIGNAL_RESOLVED, end, ended, fingerprint=fp, details={"stale": "true"})
        reclassify(ctx, incident, end, fp)
        maybe_auto_resolve(ctx, incident, fp, end)


def _stop_flapping(ctx: Context, incident: Incident) -> None:
    for fp, member in incident.members.items():
        known = ctx.state.signals.get(fp)
        stopped = quiet_since(known.flap, ctx.now, ctx.policy.flap_quiet_ms) if known else 0
        if not stopped:
            continue
        known.flap.flapping = False
        ctx.touched.add(fp)
        ctx.emit(incident, EventKind.FLAPPING_STOPPED, stopped, fingerprint=fp)
        if not member.firing:
            maybe_auto_resolve(ctx, incident, fp, member.ends_at)


def _remind_postmortems(ctx: Context, incident: Incident) -> None:
    for stage, due in postmortems_due(incident, ctx.policy, ctx.now):
        incident.postmortems.append(stage)
        ctx.emit(incident, EventKind.POSTMORTEM_DUE, due, details={"stage": stage})


def _forget(ctx: Context) -> None:
    state, retention = ctx.state, ctx.policy.retention_ms
    for incident_id, incident in list(state.incidents.items()):
        done = incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
        if done and ctx.now >= max(incident.resolved_at, incident.closed_at) + retention:
            del state.incidents[incident_id]
            ctx.touched.update(incident.members)
            ctx.touch_head()
    live = {fp for incident in state.incidents.values() for fp in incident.members}
    for fp, known in list(state.signals.items()):
        if fp not in live and fp not in state.pending and ctx.now >= known.last_seen + retention:
            del state.signals[fp]
            ctx.touched.add(fp)
            ctx.touch_head()
    for check_id, check in list(state.checks.items()):
        newest = max((r[0] for p in check.probes.values() for r in p.results), default=0)
        if not check.firing and ctx.now >= newest + retention:
            del state.checks[check_id]
            ctx.touch_head()


def next_due(state: KeyState, policy: Policy) -> int:
    """The earliest time ``tick`` could change this state (0: nothing scheduled).

    Conservative: ticking at a returned time may change nothing, but no timer fires later
    than it should as long as the caller ticks at (or after) this time.
    """
    times = [t for incident in state.incidents.values() for t in _incident_times(state, incident, policy)]
    live = {fp for incident in state.incidents.values() for fp in incident.members}
    times += [s.last_seen + policy.retention_ms for fp, s in state.signals.items() if fp not in live]
    return min((t for t in times if t > 0), default=0)


def _incident_times(state: KeyState, incident: Incident, policy: Policy) -> list[int]:
    if incident.status.is_open:
        times = [deadline for kind, deadline in deadlines(incident, policy).items() if kind not in incident.breaches]
        for fp in incident.firing_members():
            known = state.signals.get(fp)
            if known is None:
                continue
            times.append(known.ends_at)
            if timeout := policy.stale_after_ms.get(known.source, 0):
                times.append(known.last_seen + timeout)
        times += [
            s.flap.last_change + policy.flap_quiet_ms
            for fp in incident.members
            if (s := state.signals.get(fp)) and s.flap.flapping
        ]
        return times
    done = max(incident.resolved_at, incident.closed_at)
    stages = (policy.postmortem_initial_ms, policy.postmortem_detailed_ms)
    return [done + policy.retention_ms, *(incident.resolved_at + offset for offset in stages)]
