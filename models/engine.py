"""The incident engine: ``step(state, signal) -> (state, events)``, pure and replayable.

Rules (the walking-skeleton policy):

- the first firing signal of a correlation key opens an incident; further firing signals
  join it, repeats of a firing fingerprint only raise ``signal_count``;
- a resolved signal resolves its fingerprint; when every fingerprint of the incident has
  resolved, the incident resolves at the latest ``endsAt`` seen;
- a firing notice for an activation (fingerprint + ``startsAt``) that already resolved is a
  late re-delivery and changes nothing, so replays and Alertmanager re-sends are no-ops.

The incident id is derived from the opening signal (key, fingerprint, ``startsAt``), so
replaying the same input reproduces the same ids and events byte for byte.
"""

import hashlib
from copy import deepcopy

from models.incident import AlertState, IncidentState, IncidentStatus, KeyState
from models.lifecycle import EventKind, LifecycleEvent, event_id
from models.signal import Signal, SignalStatus


def incident_id_for(key: str, signal: Signal) -> str:
    """Derive an incident id from the signal that opened it."""
    material = f"{key}\x1f{signal.fingerprint}\x1f{signal.starts_at}".encode()
    return "inc-" + hashlib.sha256(material).hexdigest()[:20]


def step(state: KeyState, key: str, signal: Signal) -> tuple[KeyState, list[LifecycleEvent]]:
    """Apply one signal to one key's state; the input state is never mutated."""
    state = deepcopy(state)
    if signal.status is SignalStatus.FIRING:
        return state, _on_firing(state, key, signal)
    return state, _on_resolved(state, signal)


def _on_firing(state: KeyState, key: str, signal: Signal) -> list[LifecycleEvent]:
    if state.resolved_starts.get(signal.fingerprint, -1) >= signal.starts_at:
        return []
    incident = state.incident
    if incident is None or incident.status is IncidentStatus.RESOLVED:
        incident = IncidentState(
            incident_id=incident_id_for(key, signal),
            service=signal.service,
            title=signal.title,
            opened_at=signal.starts_at,
        )
        state.incident = incident
        incident.alerts[signal.fingerprint] = AlertState(signal.starts_at, firing=True)
        incident.signal_count = 1
        return [_event(incident, EventKind.OPENED, signal.starts_at, signal.fingerprint)]
    known = incident.alerts.get(signal.fingerprint)
    if known is None or known.starts_at < signal.starts_at:
        incident.alerts[signal.fingerprint] = AlertState(signal.starts_at, firing=True)
    incident.signal_count += 1
    return []


def _on_resolved(state: KeyState, signal: Signal) -> list[LifecycleEvent]:
    incident = state.incident
    if incident is None or incident.status is IncidentStatus.RESOLVED:
        _remember_resolution(state, signal)
        return []
    known = incident.alerts.get(signal.fingerprint)
    if known is None or known.starts_at > signal.starts_at or not known.firing:
        _remember_resolution(state, signal)
        return []
    known.firing = False
    known.ends_at = signal.at
    _remember_resolution(state, signal)
    if not incident.all_resolved:
        return []
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = max(alert.ends_at for alert in incident.alerts.values())
    return [_event(incident, EventKind.RESOLVED, incident.resolved_at, signal.fingerprint)]


def _remember_resolution(state: KeyState, signal: Signal) -> None:
    previous = state.resolved_starts.get(signal.fingerprint, -1)
    state.resolved_starts[signal.fingerprint] = max(previous, signal.starts_at)


def _event(incident: IncidentState, kind: EventKind, at: int, fp: str) -> LifecycleEvent:
    incident.seq += 1
    return LifecycleEvent(
        event_id=event_id(incident.incident_id, kind, incident.seq),
        incident_id=incident.incident_id,
        seq=incident.seq,
        kind=kind,
        at=at,
        service=incident.service,
        title=incident.title,
        fingerprint=fp,
        status=str(incident.status),
    )
