"""``tick``: what the passage of time does, given ``now`` from the caller's clock.

- Stale signals resolve: a firing signal whose declared ``endsAt`` passed resolves at
  that time; one not seen for its source's ``stale_after`` resolves at last-seen + timeout.
- Flapping signals that went quiet stop flapping; if they ended meanwhile, the incident
  may now resolve. Signals outside incidents (held by the gate, or idle) stop flapping too,
  with no event: there is no incident to tell.
- SLA breaches, escalation pages and status-update reminders are emitted once, stamped
  with their deadline (``models.escalation``).
- Post-mortem reminders for resolved P0/P1 incidents, stamped with their due time.
- Resolved incidents and idle signals are forgotten after the retention period; changes
  after twice the change window.
"""

from models.change_flow import change_times, forget_changes
from models.context import Context
from models.escalation import emit_due, escalation_times
from models.flapping import quiet_since
from models.incident import Incident, IncidentStatus
from models.lifecycle import EventKind, LifecycleEvent
from models.membership import end_member
from models.policy import Policy
from models.signal import SignalStatus
from models.signal_flow import maybe_auto_resolve, reclassify, reconsider
from models.silence import silence_id_of
from models.sla import RESOLUTION, RESPONSE, deadlines, postmortems_due
from models.state import KeyState, SignalState


def run_timers(ctx: Context) -> None:
    reconsider(ctx)
    for incident in list(ctx.state.incidents.values()):
        if incident.status.is_open:
            _expire_stale(ctx, incident)
            _stop_flapping(ctx, incident)
        if incident.status.is_open:
            emit_due(ctx, incident, ctx.now)
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
    """Forget what retention let go; on the same walk, stop quiet flapping outside incidents."""
    forget_changes(ctx)
    state, retention = ctx.state, ctx.policy.retention_ms
    for incident_id, incident in list(state.incidents.items()):
        done = incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
        if done and ctx.now >= max(incident.resolved_at, incident.closed_at) + retention:
            del state.incidents[incident_id]
            ctx.touched.update(incident.members)
            ctx.touch_head()
    live = {fp for incident in state.incidents.values() for fp in incident.members}
    for fp, known in list(state.signals.items()):
        if fp not in live and quiet_since(known.flap, ctx.now, ctx.policy.flap_quiet_ms):
            # Held by the gate, or idle: it stops flapping too, with no incident to tell — so one
            # that joins an incident later is steady, and a tick replayed on a later state
            # (after a crash) does what the live tick did.
            known.flap.flapping = False
            ctx.touched.add(fp)
        if fp not in live and fp not in state.pending and ctx.now >= known.last_seen + retention:
            del state.signals[fp]
            ctx.touched.add(fp)
            ctx.touch_head()
    for check_id, check in list(state.checks.items()):
        newest = max((r[0] for p in check.probes.values() for r in p.results), default=0)
        if not check.firing and ctx.now >= newest + retention:
            del state.checks[check_id]
            ctx.touch_head()


#: ``KeyState.due`` when nothing is scheduled.
NOTHING_DUE = 1 << 62


def catch_up(ctx: Context) -> None:
    """Run the timers due by ``ctx.now`` (if any), then note when the next one is due.

    ``KeyState.due`` makes the check O(1) and lets the stream layer schedule the key's next
    tick without walking its state: it is never later than the real next due time
    (``note_new_timers`` lowers it after each input).
    """
    state = ctx.state
    if state.due and state.due > ctx.now:
        return
    due = next_due(state, ctx.policy)
    if due and due <= ctx.now:
        run_timers(ctx)
        due = next_due(state, ctx.policy)
    _set_due(ctx, due or NOTHING_DUE)


def note_new_timers(ctx: Context, fingerprints: set[str], events: list[LifecycleEvent], checks: bool = False) -> None:
    """Lower ``KeyState.due`` to any timer an input may have started, in O(what it touched):
    its signals', its incidents' (a reopened incident's members all again), and with
    ``checks`` the checks'."""
    state, policy = ctx.state, ctx.policy
    if not fingerprints and not events and not checks:
        return  # a re-send that changed nothing: the hot path
    if not state.due:  # a new key, or one stored before ``due`` existed: walk it once
        _set_due(ctx, next_due(state, policy) or NOTHING_DUE)
        return
    times, incident_ids = [], {e.incident_id for e in events}
    for fp in fingerprints:
        if known := state.signals.get(fp):
            times += _signal_times(known, policy)
            incident_ids.add(known.incident_id)
    for incident_id in incident_ids:
        if incident := state.incidents.get(incident_id):
            times += _own_times(incident, policy)
    for incident_id in {e.incident_id for e in events if e.kind is EventKind.REOPENED}:
        incident = state.incidents[incident_id]
        for fp, member in incident.members.items():
            if known := state.signals.get(fp):
                times += _member_times(known, policy, member.firing)
    if checks:
        times += _check_times(state, policy)
    earliest = min((t for t in times if t > 0), default=0)
    if earliest and earliest < state.due:
        _set_due(ctx, earliest)


def note_timer(ctx: Context, at: int) -> None:
    """Lower ``KeyState.due`` to a timer an input started at ``at``."""
    if ctx.state.due and at < ctx.state.due:
        _set_due(ctx, at)


def scheduled(state: KeyState, policy: Policy) -> int:
    """When to tick this key (0: never): ``KeyState.due`` when known, O(1)."""
    due = state.due or next_due(state, policy)
    return 0 if due >= NOTHING_DUE else due


def _set_due(ctx: Context, due: int) -> None:
    """Not a change to store: a store reads ``due`` as unknown (it recomputes it once per load,
    as the policy may have changed since)."""
    ctx.state.due = due


def next_due(state: KeyState, policy: Policy) -> int:
    """The earliest time ``tick`` will change this state (0: nothing scheduled).

    Exact: each time listed is one at which a timer fires (stale, ended, flapping stopped,
    SLA breached, post-mortem due, forgotten), so ticking at it always changes something.
    """
    times = []
    for incident in state.incidents.values():
        times += _own_times(incident, policy)
        if incident.status.is_open:
            for fp, member in incident.members.items():
                if known := state.signals.get(fp):
                    times += _member_times(known, policy, member.firing)
    live = {fp for incident in state.incidents.values() for fp in incident.members}
    for fp, known in state.signals.items():
        if fp in live:
            continue
        if known.flap.flapping and known.flap.changes:  # held by the gate, or idle
            times.append(known.flap.last_change + policy.flap_quiet_ms)
        if fp not in state.pending:
            times += [known.last_seen + policy.retention_ms, silence_end(known, policy)]
    times += _check_times(state, policy)
    times += change_times(state, policy.change_window_ms)
    return min((t for t in times if t > 0), default=0)


def _own_times(incident: Incident, policy: Policy) -> list[int]:
    """An incident's own timers: SLA deadlines not yet met or breached, its next page and
    reminder; once done, its
    post-mortem reminders and when it is forgotten."""
    if incident.status.is_open:
        met = {RESPONSE: incident.acknowledged_at or incident.resolved_at, RESOLUTION: incident.resolved_at}
        sla = [t for kind, t in deadlines(incident, policy).items() if kind not in incident.breaches and not met[kind]]
        return [*sla, *escalation_times(incident, policy)]
    done = max(incident.resolved_at, incident.closed_at)
    reminders = [t for _, t in postmortems_due(incident, policy, NOTHING_DUE)]
    return [done + policy.retention_ms, *reminders]


def _member_times(known: SignalState, policy: Policy, firing: bool = True) -> list[int]:
    """A member signal's timers: its declared end and staleness while firing, the end of
    its flapping."""
    times = []
    if firing and known.status == SignalStatus.FIRING:
        times.append(known.ends_at)
        if timeout := policy.stale_after_ms.get(known.source, 0):
            times.append(known.last_seen + timeout)
    if known.flap.flapping and known.flap.changes:
        times.append(known.flap.last_change + policy.flap_quiet_ms)
    return times


def _signal_times(known: SignalState, policy: Policy) -> list[int]:
    """Every timer a signal could have, member or not (a lower bound is all ``due`` needs)."""
    return [*_member_times(known, policy), known.last_seen + policy.retention_ms, silence_end(known, policy)]


def silence_end(known: SignalState, policy: Policy) -> int:
    """When the silence muting a firing signal ends (0: none mutes it); a silence no longer
    known (pruned, or gone from the policy) is due at once."""
    silence_id = silence_id_of(known.suppressed)
    if not silence_id or known.status != SignalStatus.FIRING:
        return 0
    silence = policy.silence(silence_id)
    return silence.ends_at if silence is not None else known.last_seen


def _check_times(state: KeyState, policy: Policy) -> list[int]:
    return [
        max((r[0] for p in check.probes.values() for r in p.results), default=0) + policy.retention_ms
        for check in state.checks.values()
        if not check.firing
    ]
