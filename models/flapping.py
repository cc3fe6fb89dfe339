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


#: The flap state of every signal that never changed status, shared: most signals never do,
#: and a state of their own costs ~110 bytes each. Its changes are a tuple, so an update
#: that forgot ``own`` fails loudly instead of changing every steady signal.
STEADY = FlapState(changes=(), flapping=False)  # type: ignore[arg-type]


def own(state: FlapState) -> FlapState:
    """``state``, or a fresh one in place of ``STEADY`` (or a copy of it): call before changing it."""
    return state if isinstance(state.changes, list) else FlapState()


def shared_if_steady(state: FlapState) -> FlapState:
    """``STEADY`` for a decoded state that never changed, so restored signals share it too."""
    return STEADY if not state.changes and not state.flapping else state


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
