"""The working set of one engine call: state, policy, the time, and the events emitted."""

from dataclasses import dataclass, field
from itertools import islice

from models.incident import Incident
from models.lifecycle import MAX_FINGERPRINTS, EventKind, LifecycleEvent, event_id
from models.policy import Policy
from models.sla import RESOLUTION, RESPONSE, deadlines
from models.state import KeyState
from models.timestamps import format_ms

#: In ``Context.touched``: the key's head record (everything but signals and members) changed.
HEAD = ""
ANNOUNCE_ALL = 100
ANNOUNCE_EVERY = 1000


@dataclass(slots=True)
class Context:
    state: KeyState
    policy: Policy
    now: int
    events: list[LifecycleEvent] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # fingerprints whose stored record changed; HEAD: the rest

    def touch_head(self) -> None:
        """Something outside the per-signal records changed (incidents, checks, pending, counters)."""
        self.touched.add(HEAD)

    def emit(
        self,
        incident: Incident,
        kind: EventKind,
        at: int,
        *,
        fingerprint: str = "",
        actor: str = "",
        details: dict[str, str] | None = None,
    ) -> None:
        """Append the incident's next event (``seq`` + 1), carrying its current state."""
        incident.seq += 1
        self.touched.add(HEAD)
        due = deadlines(incident, self.policy)
        self.events.append(
            LifecycleEvent(
                event_id=event_id(incident.incident_id, kind, incident.seq),
                incident_id=incident.incident_id,
                seq=incident.seq,
                kind=kind,
                at=at,
                severity=incident.severity,
                status=str(incident.status),
                service=incident.service,
                services=tuple(incident.services),
                title=incident.title,
                reasons=tuple(incident.reasons),
                fingerprints=tuple(islice(incident.members, MAX_FINGERPRINTS)),
                fingerprint=fingerprint,
                actor=actor,
                runbook_url=incident.runbook_url,
                root_cause=incident.root_cause,
                detected_at=incident.detected_at,
                acknowledged_at=incident.acknowledged_at,
                resolved_at=incident.resolved_at,
                closed_at=incident.closed_at,
                response_deadline=due.get(RESPONSE, 0),
                resolution_deadline=due.get(RESOLUTION, 0),
                details=dict(details or {}),
                signal_count=len(incident.members),
                links=dict(incident.links),
            )
        )

    def announce(
        self,
        incident: Incident,
        kind: EventKind,
        at: int,
        changed: int,
        *,
        fingerprint: str,
        details: dict | None = None,
    ) -> None:
        """Emit a per-signal event (``signal_added``/``signal_resolved``) — for every one of an
        incident's first ``ANNOUNCE_ALL`` signals, then for every ``ANNOUNCE_EVERY``-th change
        only (``changed`` counts them), with the count in ``details``. A 100,000-alert outage
        is a readable timeline of a few hundred events, not 100,000; every signal is still
        counted (``signal_count``) and logged in ``tocsin.signals``. Details carry the
        signal's repeat count (``received``) and ``last_seen``."""
        if len(incident.members) > ANNOUNCE_ALL and changed % ANNOUNCE_EVERY:
            return
        extra = {} if len(incident.members) <= ANNOUNCE_ALL else {"summarized": str(ANNOUNCE_EVERY)}
        known = self.state.signals.get(fingerprint)
        if known is not None:  # its repeat count and freshness, readable without the signal log
            extra |= {"received": str(known.received), "last_seen": format_ms(known.last_seen)}
        self.emit(incident, kind, at, fingerprint=fingerprint, details={**(details or {}), **extra})
