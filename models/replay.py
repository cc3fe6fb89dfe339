"""Replay recorded engine inputs through the engine: what a policy would have done.

The live engine applies each key's inputs in the order of its ``tocsin.signals`` partition,
at their arrival times, and runs a key's timers when a tick reaches it. The signal log keeps
both: every input, and every tick that changed a key. ``replay`` applies them in the same
order, so with the policy that was in force it publishes the events that were recorded, ids
included; with another policy it shows what that policy would have done instead (a timer
only the other policy has runs at the key's next recorded tick, stamped with its own time).

Silences made at run time are in the log too. A replay knows every one from the start
(``silences``): a silence mutes what arrives while it is active, so knowing it early changes
nothing, and a recorded tick is where the live engine let a silence's signals through.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from models.engine import recheck, step_in_place, tick_in_place
from models.lifecycle import LifecycleEvent
from models.parsers.result import Input
from models.policy import Policy
from models.silence import Silence, newer
from models.state import Decision, KeyState


class Recorded(NamedTuple):
    """One input as the engine applied it (its key's token, the key, its arrival time), or
    with no ``item`` a tick that reached the key at ``now``."""

    token: str
    key: str
    now: int
    item: Input | Silence | None


@dataclass
class Replay:
    events: list[LifecycleEvent] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)  # one per input, in input order
    states: dict[str, KeyState] = field(default_factory=dict)


def replay(inputs: Iterable[Recorded], policy: Policy, until: int, silences: Iterable[Silence] = ()) -> Replay:
    """Apply ``inputs`` (each key's in the order they were applied) from empty states, then
    let time pass to ``until`` (or the last input's time, if later)."""
    run = Replay()
    known: dict[str, Silence] = {}
    for silence in silences:
        if newer(known.get(silence.silence_id), silence):
            known[silence.silence_id] = silence
    policy = policy.with_silences(known)
    for token, key, now, item in inputs:
        until = max(until, now)
        if isinstance(item, Silence):
            if newer(known.get(item.silence_id), item):
                known[item.silence_id] = item
                policy = policy.with_silences(known)
            continue
        state = run.states.setdefault(token, KeyState())
        if item is None:  # the key's timers ran: computed again, as a silence may have ended early
            run.events += recheck(state, now, policy)
            continue
        emitted, decision = step_in_place(state, item, now, policy, key=key)
        run.events += emitted
        run.decisions.append(decision)
    for state in run.states.values():
        run.events += tick_in_place(state, until, policy)
    return run
