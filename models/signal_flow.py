"""How a signal moves incidents: dedup, flapping, suppression, joining, opening, resolving.

Rules (where the seed is silent, these are tocsin's choices):

- Identity is the fingerprint; an exact re-delivery (same content hash) changes nothing
  but the signal's repeat count and last-seen time, and an update for an older activation
  (earlier ``startsAt``), or a firing notice for an activation already resolved, is stale
  and ignored.
- A firing signal joins the open incident of its key unless that incident is older than
  ``max_age`` or has been quiet (no member fired or resolved) for ``quiet``; a signal
  starting before, or within ``reopen_window`` after, the resolution of the key's last
  incident reopens it; otherwise, once ``open_after`` distinct signals fire within its
  window, a new incident opens.
- Resolution follows ``resolution.auto``: when all, the first, or the last-fired signal
  resolved, or only by hand. User reports never resolve by themselves and do not hold an
  incident open. A flapping signal holds its incident open.
- ``detected_at`` is the earliest start among the incident's signals, so a late signal that
  started earlier moves detection back and durations stay non-negative.
"""

from collections.abc import Iterator
from dataclasses import replace

from models.change_flow import note_changes
from models.context import Context
from models.correlation import incident_id_for, root_cause
from models.escalation import emit_due
from models.facts import FACT_LABEL_SET, FACT_LABELS
from models.flapping import own, record_change
from models.incident import Incident, IncidentStatus, Member
from models.lifecycle import EventKind
from models.links import merge_links, runbook_for
from models.membership import drop_member, end_member, put_member
from models.severity import classify_memo, incident_facts, is_upgrade, member_facts, stated_facts
from models.signal import Signal, SignalKind, SignalStatus
from models.silence import silence_id_of
from models.state import Decision, Outcome, SignalState
from models.suppression import suppression_reason

MAX_SEEN = 32


def on_signal(ctx: Context, signal: Signal) -> Decision:
    fp = signal.fingerprint
    known = ctx.state.signals.get(fp)
    if known is not None and signal.status is SignalStatus.RESOLVED and signal.starts_at == 0:
        signal = replace(signal, starts_at=known.starts_at)  # PagerDuty-style resolve: no start given
    content = signal.content_hash  # hashed once per input
    # A re-send — the hot path, kept short; most repeat the latest content, the rest an earlier one.
    if known is not None and (content == known.content_hash or content in known.seen):
        if ctx.now > known.last_seen:
            received_again(ctx, known, fp)
        return Decision(Outcome.DUPLICATE, fingerprint=fp, incident_id=known.incident_id, content=content)
    if known is not None and _is_stale(known, signal):
        return Decision(Outcome.STALE, "older than what is known", fingerprint=fp, incident_id=known.incident_id)
    return _noting_unrecognised(signal, _apply(ctx, signal, known, content))


def _noting_unrecognised(signal: Signal, decision: Decision) -> Decision:
    """``decision``, naming the severity fact values ``signal`` stated that no criterion knows."""
    unknown = stated_facts(signal.kind, signal.labels, signal.annotations, signal.severity)[1]
    if not unknown:
        return decision
    note = f"unrecognised severity facts: {', '.join(unknown)}"
    return replace(decision, reason=f"{decision.reason}; {note}" if decision.reason else note, unrecognised=unknown)


def _apply(ctx: Context, signal: Signal, known: SignalState | None, content: str) -> Decision:
    fp = signal.fingerprint
    if known is None and signal.status is SignalStatus.RESOLVED:
        # Remember it: if its firing notice arrives late, it is recognised as stale.
        _record(ctx, None, signal, content)
        return Decision(Outcome.IGNORED, "resolved signal was never seen firing", fingerprint=fp)
    state = _record(ctx, known, signal, content)
    incident = ctx.state.incidents.get(state.incident_id)
    if incident is not None and incident.status is IncidentStatus.CLOSED:
        state.incident_id, incident = "", None
    if signal.status is SignalStatus.FIRING:
        return _on_firing(ctx, signal, state, incident)
    return _on_resolved(ctx, signal, state, incident)


def received_again(ctx: Context, known: SignalState, fp: str) -> None:
    """A re-send: counted, and it keeps the signal fresh for the staleness watchdog.

    Only a receipt ``dedup.repeat_after`` past the last one counted counts, so a batch
    applied again after a crash (same arrival times) counts nothing twice, and a flood of
    re-deliveries (an Alertmanager HA pair, a retrying sender) costs one state write per
    interval, not one per copy.
    """
    if ctx.now > known.last_seen and ctx.now - known.last_seen >= ctx.policy.repeat_after_ms:
        known.received += 1
        known.last_seen = ctx.now
        ctx.touched.add(fp)


def _is_stale(known: SignalState, signal: Signal) -> bool:
    if signal.starts_at < known.starts_at:
        return True
    same_activation = signal.starts_at == known.starts_at
    return same_activation and known.status == SignalStatus.RESOLVED and signal.status is SignalStatus.FIRING


def _record(ctx: Context, known: SignalState | None, signal: Signal, content: str) -> SignalState:
    """Store the signal's latest activation; note a status change for flapping."""
    if known is None:
        known = SignalState(
            source=signal.source,
            kind=signal.kind.value,
            service=signal.service,
            status=signal.status.value,
            starts_at=signal.starts_at,
            ends_at=signal.ends_at,
            content_hash=content,
            last_seen=ctx.now,
            labels=dict(signal.labels),
            seen=[content],
            order=ctx.state.recorded,
            stated=_stated(signal),
        )
        ctx.state.recorded += 1
        ctx.touch_head()
        ctx.state.signals[signal.fingerprint] = known
        ctx.touched.add(signal.fingerprint)
        return known
    ctx.touched.add(signal.fingerprint)
    changed = known.status != signal.status
    known.status, known.starts_at, known.ends_at = signal.status.value, signal.starts_at, signal.ends_at
    known.content_hash, known.labels, known.stated = content, dict(signal.labels), _stated(signal)
    known.last_seen, known.received = max(known.last_seen, ctx.now), known.received + 1
    known.seen = [*known.seen, content][-MAX_SEEN:]
    policy = ctx.policy
    if changed:
        known.flap = own(known.flap)
        if record_change(known.flap, signal.at, policy.flap_changes, policy.flap_window_ms):
            incident = ctx.state.incidents.get(known.incident_id)
            if incident is not None and incident.status is not IncidentStatus.CLOSED:
                ctx.emit(incident, EventKind.FLAPPING_STARTED, signal.at, fingerprint=signal.fingerprint)
    return known


def _member(signal: Signal) -> Member:
    facts = member_facts(str(signal.kind), signal.labels, signal.annotations, signal.severity)
    return Member(
        kind=signal.kind.value,
        source=signal.source,
        service=signal.service,
        firing=signal.status is SignalStatus.FIRING,
        starts_at=signal.starts_at,
        ends_at=signal.ends_at,
        **facts,
    )


def _on_firing(ctx: Context, signal: Signal, state: SignalState, incident: Incident | None) -> Decision:
    fp = signal.fingerprint
    if incident is not None:
        resolved = incident.status is IncidentStatus.RESOLVED
        if not resolved or signal.starts_at < incident.resolved_at + ctx.policy.reopen_window_ms:
            return _refire(ctx, incident, signal, state)
        drop_member(ctx, incident, fp)
        state.incident_id = ""
    return _place(ctx, signal, state)


def _place(ctx: Context, signal: Signal, state: SignalState) -> Decision:
    """Where a firing signal with no incident goes: suppressed, into an incident, gated or
    opening one."""
    fp = signal.fingerprint
    reason = suppression_reason(signal, ctx.policy, _firing_labels(ctx, fp), ctx.now)
    if reason != state.suppressed:
        state.suppressed = reason
        ctx.touched.add(fp)
    if reason:
        return Decision(Outcome.SUPPRESSED, reason, fingerprint=fp)
    target = _absorbing_incident(ctx, signal)
    if target is not None:
        _add_member(ctx, target, signal)
        state.incident_id = target.incident_id
        if target.status is IncidentStatus.RESOLVED:
            reopen(ctx, target, max(signal.at, target.resolved_at), fingerprint=fp)
        else:
            ctx.announce(target, EventKind.SIGNAL_ADDED, signal.at, len(target.members), fingerprint=fp)
        return _joined(ctx, target, signal)
    return _gate_or_open(ctx, signal)


def reconsider(ctx: Context) -> None:
    """Evaluate again each firing signal whose silence has ended (or is gone) by ``ctx.now``:
    it opens or joins an incident now, as if it had just fired, unless something else mutes it."""
    policy = ctx.policy
    for fp, known in list(ctx.state.signals.items()):
        silence_id = silence_id_of(known.suppressed)
        if not silence_id or known.status != SignalStatus.FIRING:
            continue
        silence = policy.silence(silence_id)
        if silence is None or not silence.active(ctx.now):
            _place(ctx, _held_signal(fp, known), known)


def _held_signal(fp: str, known: SignalState) -> Signal:
    """A muted signal as it last arrived, from what its state keeps (its title: its alert name)."""
    stated = dict(part.split("=", 1) for part in known.stated.split("\x1f")) if known.stated else {}
    severity = stated.pop("severity", "")
    return Signal(
        source=known.source,
        fingerprint=fp,
        status=SignalStatus.FIRING,
        starts_at=known.starts_at,
        ends_at=known.ends_at,
        service=known.service,
        title=known.labels.get("alertname") or known.service,
        labels=dict(known.labels),
        annotations=stated,
        severity=severity,
        kind=SignalKind(known.kind),
    )


def _refire(ctx: Context, incident: Incident, signal: Signal, state: SignalState) -> Decision:
    """A signal already in ``incident`` fires again (a new activation or an update)."""
    was_firing = incident.members[signal.fingerprint].firing
    _add_member(ctx, incident, signal)
    if incident.status is IncidentStatus.RESOLVED:
        reopen(ctx, incident, max(signal.at, incident.resolved_at), fingerprint=signal.fingerprint)
    elif not was_firing and not state.flap.flapping:
        firing = sum(incident.tally.failing.values())
        details = {"reactivated": "true"}
        ctx.announce(
            incident, EventKind.SIGNAL_ADDED, signal.at, firing, fingerprint=signal.fingerprint, details=details
        )
    return _joined(ctx, incident, signal)


def _joined(ctx: Context, incident: Incident, signal: Signal) -> Decision:
    ctx.touch_head()
    incident.signal_count += 1
    reclassify(ctx, incident, signal.at, signal.fingerprint)
    return Decision(Outcome.ACCEPTED, incident_id=incident.incident_id, fingerprint=signal.fingerprint)


def _firing_labels(ctx: Context, fp: str) -> Iterator[dict[str, str]]:
    """Labels of the key's other firing signals, read only if an inhibition rule asks."""
    return (s.labels for f, s in ctx.state.signals.items() if f != fp and s.status == SignalStatus.FIRING)


def _absorbing_incident(ctx: Context, signal: Signal) -> Incident | None:
    """The key's incident this signal belongs to: open, young and active enough, or recently
    resolved."""
    policy = ctx.policy
    for incident in reversed(list(ctx.state.incidents.values())):
        if incident.status.is_open and signal.starts_at <= incident.detected_at + policy.max_age_ms:
            if policy.quiet_ms and signal.at > max(incident.active_at, incident.detected_at) + policy.quiet_ms:
                continue
            return incident
        if incident.status is IncidentStatus.RESOLVED and incident.opened_at <= signal.starts_at < (
            incident.resolved_at + policy.reopen_window_ms
        ):
            return incident
    return None


def _gate_or_open(ctx: Context, signal: Signal) -> Decision:
    pending = ctx.state.pending
    pending[signal.fingerprint] = signal.starts_at
    ctx.touch_head()
    window = ctx.policy.open_after_within_ms
    for fp in [f for f, start in pending.items() if start < signal.starts_at - window]:
        del pending[fp]
    if len(pending) < ctx.policy.open_after_signals:
        return Decision(
            Outcome.GATED, f"{len(pending)}/{ctx.policy.open_after_signals} signals", fingerprint=signal.fingerprint
        )
    incident = _open(ctx, signal)
    return Decision(Outcome.ACCEPTED, incident_id=incident.incident_id, fingerprint=signal.fingerprint)


def _open(ctx: Context, signal: Signal) -> Incident:
    state, key = ctx.state, ctx.state.key
    members = sorted(state.pending.items(), key=lambda item: (item[1], item[0]))
    first_fp, first_start = members[0]
    incident = Incident(
        incident_id=incident_id_for(key, first_fp, first_start),
        key=key,
        title=signal.title,
        service=signal.service,
        detected_at=first_start,
        opened_at=first_start,
        runbook_url=runbook_for(signal, ctx.policy),
        links=dict(signal.links),
    )
    if incident.runbook_url:
        merge_links(incident.links, {"runbook": incident.runbook_url})
    state.incidents[incident.incident_id] = incident
    for fp, _ in members:
        known = state.signals[fp]
        known.incident_id = incident.incident_id
        put_member(ctx, incident, fp, _pending_member(known))
    _add_member(ctx, incident, signal)
    state.pending.clear()
    incident.signal_count = len(incident.members)
    reclassify(ctx, incident, signal.at, signal.fingerprint, announce=False)
    ctx.emit(incident, EventKind.OPENED, first_start, fingerprint=signal.fingerprint)
    emit_due(ctx, incident, max(signal.at, first_start))  # a page due at detection goes out with it
    if ctx.state.changes:
        note_changes(ctx, incident)
    return incident


def _stated(signal: Signal) -> str:
    """The severity facts ``signal`` states outside its labels, kept for a gated signal's
    membership later (its annotations are not stored)."""
    own_severity = not signal.severity or signal.severity == signal.labels.get("severity")
    if own_severity and not signal.annotations.keys() & FACT_LABEL_SET:
        return ""  # the common case: every fact it states is in its labels
    parts = [f"{n}={signal.annotations[n]}" for n in FACT_LABELS if n in signal.annotations and n not in signal.labels]
    if signal.severity and signal.severity != signal.labels.get("severity", "").lower():
        parts.append(f"severity={signal.severity}")
    return "\x1f".join(parts)


def _pending_member(known: SignalState) -> Member:
    stated = dict(part.split("=", 1) for part in known.stated.split("\x1f")) if known.stated else {}
    severity = stated.pop("severity", "") or known.labels.get("severity", "").lower()
    facts = member_facts(known.kind, known.labels, stated, severity)
    return Member(
        kind=known.kind, source=known.source, service=known.service, firing=True, starts_at=known.starts_at, **facts
    )


def _add_member(ctx: Context, incident: Incident, signal: Signal) -> None:
    put_member(ctx, incident, signal.fingerprint, _member(signal))
    incident.active_at = max(incident.active_at, signal.at)
    if signal.status is SignalStatus.FIRING:
        incident.last_fingerprint = signal.fingerprint
    incident.detected_at = min(incident.detected_at, signal.starts_at)
    if signal.links and merge_links(incident.links, signal.links):
        ctx.touch_head()
    if not incident.runbook_url and (runbook := runbook_for(signal, ctx.policy)):
        incident.runbook_url = runbook
        merge_links(incident.links, {"runbook": runbook})
        ctx.touch_head()


def _on_resolved(ctx: Context, signal: Signal, state: SignalState, incident: Incident | None) -> Decision:
    fp = signal.fingerprint
    if ctx.state.pending.pop(fp, None) is not None:
        ctx.touch_head()
    decision = Decision(Outcome.ACCEPTED, fingerprint=fp, incident_id=state.incident_id)
    if incident is None or not incident.members[fp].firing:
        return decision
    end_member(ctx, incident, fp, signal.at)
    incident.active_at = max(incident.active_at, signal.at)
    if state.flap.flapping or not incident.status.is_open:
        return decision
    ended = len(incident.members) - sum(incident.tally.failing.values())
    ctx.announce(incident, EventKind.SIGNAL_RESOLVED, signal.at, ended, fingerprint=fp)
    reclassify(ctx, incident, signal.at, fp)
    maybe_auto_resolve(ctx, incident, fp, signal.at)
    return decision


def maybe_auto_resolve(ctx: Context, incident: Incident, fp: str, at: int) -> None:
    """Resolve per ``resolution.auto`` once the decisive signal resolved."""
    mode = ctx.policy.auto_resolve
    if mode == "manual" or not incident.status.is_open or incident.tally.reports == len(incident.members):
        return
    if mode == "all" and incident.tally.blocking_firing:
        return
    if mode == "last" and fp != incident.last_fingerprint:
        return
    # Only now walk the members (once per resolution, not once per resolved signal).
    blocking = [(f, m) for f, m in incident.members.items() if m.kind != SignalKind.REPORT]
    signals = ctx.state.signals
    if any(signals[f].flap.flapping for f, _ in blocking if f in signals):
        return
    if mode == "all":
        at = max(m.ends_at for _, m in blocking)
    resolve(ctx, incident, max(at, incident.detected_at), fingerprint=fp)


def resolve(ctx: Context, incident: Incident, at: int, *, fingerprint: str = "", actor: str = "") -> None:
    emit_due(ctx, incident, at)
    incident.status, incident.resolved_at = IncidentStatus.RESOLVED, at
    ctx.emit(incident, EventKind.RESOLVED, at, fingerprint=fingerprint, actor=actor)


def reopen(ctx: Context, incident: Incident, at: int, *, fingerprint: str = "", actor: str = "") -> None:
    incident.status = IncidentStatus.ACKNOWLEDGED if incident.acknowledged_at else IncidentStatus.DETECTED
    incident.resolved_at = incident.closed_at = 0
    incident.reopened += 1
    ctx.emit(incident, EventKind.REOPENED, at, fingerprint=fingerprint, actor=actor)


def reclassify(ctx: Context, incident: Incident, at: int, fp: str = "", *, announce: bool = True) -> None:
    """Refresh services, root cause and severity; announce an allowed severity change."""
    ctx.touch_head()
    incident.services = sorted(incident.tally.services)
    failing = set(incident.tally.failing)
    incident.root_cause = root_cause(failing, ctx.policy.dependencies)
    if incident.severity_override:
        return
    result = classify_memo(incident_facts(incident), ctx.policy)
    if not announce:
        incident.severity, incident.reasons = result.severity, result.reasons
        return
    if result.severity == incident.severity:
        incident.reasons = result.reasons
        return
    if is_upgrade(result.severity, incident.severity) or ctx.policy.allow_downgrade:
        before = incident.severity
        incident.severity, incident.reasons = result.severity, result.reasons
        ctx.emit(
            incident, EventKind.SEVERITY_CHANGED, at, fingerprint=fp, details={"from": before, "to": result.severity}
        )
