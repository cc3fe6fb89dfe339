"""Flapping: a signal that keeps changing between firing and resolved.

``changes`` state changes within ``window`` (event time) mark it flapping; it stops after
``quiet`` without a change (hysteresis, so a borderline signal does not flap about
flapping). While flapping, its incident stays open and only ``flapping_started`` /
``flapping_stopped`` are emitted instead of resolve/reopen churn.
"""

from dataclasses import dataclass, field


@dataclass(slots=True)
class FlapState:
    changes: list[int] = field(default_factory=list)
    flapping: bool = False

    @property
    def last_change(self) -> int:
        return self.changes[-1] if self.changes else 0


def record_change(state: FlapState, at: int, threshold: int, window_ms: int) -> bool:
    """Record a status change at event time ``at``; ``True`` when flapping starts now."""
    if at in state.changes:
        return False
    state.changes.append(at)
    state.changes.sort()
    latest = state.changes[-1]
    state.changes = [t for t in state.changes if t > latest - window_ms][-threshold:]
    if not state.flapping and len(state.changes) >= threshold:
        state.flapping = True
        return True
    return False


def quiet_since(state: FlapState, now: int, quiet_ms: int) -> int:
    """When a flapping signal went quiet (the stop time), or 0 while it still flaps."""
    if state.flapping and state.changes and now >= state.last_change + quiet_ms:
        return state.last_change + quiet_ms
    return 0
