"""Properties of the engine over generated input streams (hypothesis)."""

import random
from dataclasses import dataclass

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.engine import step
from models.policy import load_policy
from models.state import KeyState
from tests.support.engine import MIN, T0, alert, check, command, report, resolved

POLICY = load_policy()
FINGERPRINT_NAMES = ["A", "B", "C", "D"]


@st.composite
def activations(draw: st.DrawFn) -> list:
    """Alert activations (fire, maybe resolve), checks, reports and commands, in event-time order."""
    items = []
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(FINGERPRINT_NAMES))
        start = T0 + draw(st.integers(0, 120)) * MIN
        labels = draw(st.sampled_from([{}, {"severity": "warning"}, {"severity": "critical"}, {"impact": "outage"}]))
        fired = alert(name, starts=start, **labels)
        items.append(fired)
        if draw(st.booleans()):
            items.append(resolved(fired, start + draw(st.integers(2, 60)) * MIN))
    for _ in range(draw(st.integers(0, 6))):
        items.append(
            check(
                draw(st.sampled_from(["fail", "pass"])),
                T0 + draw(st.integers(0, 120)) * MIN,
                region=draw(st.sampled_from(["eu", "us"])),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        items.append(report(T0 + draw(st.integers(0, 120)) * MIN, reporter=draw(st.sampled_from(["a", "b"]))))
    items.sort(key=_event_time)
    commands = draw(
        st.lists(
            st.tuples(st.sampled_from(["ack", "note", "resolve", "reopen", "close"]), st.integers(0, 180)), max_size=4
        )
    )
    return items + [("command", action, T0 + minute * MIN) for action, minute in commands]


def _event_time(item: object) -> int:
    for name in ("observed_at", "reported_at"):
        if hasattr(item, name):
            return getattr(item, name)
    return item.at


@dataclass
class Outcome:
    state: KeyState
    events: list


def run(items: list) -> Outcome:
    """Feed items; command placeholders address the latest incident known at that point."""
    return run_from(KeyState(), items)


def as_json(outcome: Outcome) -> bytes:
    return orjson.dumps([e.to_dict() for e in outcome.events]) + orjson.dumps(outcome.state.to_dict())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(activations())
def test_same_inputs_give_byte_identical_events(items: list) -> None:
    assert as_json(run(items)) == as_json(run(items))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(activations(), st.data())
def test_reapplying_any_input_is_a_no_op(items: list, data: st.DataObject) -> None:
    first = run(items)
    replayable = [i for i in items if not isinstance(i, tuple)]
    if not replayable:
        return
    again = data.draw(st.sampled_from(replayable))
    state, events, _ = step(first.state, again, _event_time(again), POLICY)  # the same delivery again
    assert events == []
    assert state.to_dict() == first.state.to_dict()
    state, events, _ = step(first.state, again, _event_time(again) + 7 * MIN, POLICY)  # a re-send, later
    assert events == []
    assert without_repeats(state.to_dict()) == without_repeats(first.state.to_dict())


def without_repeats(state: dict) -> dict:
    """The state without what a re-send may move: each signal's repeat count and last receipt."""
    for signal in state["signals"].values():
        signal.pop("received"), signal.pop("last_seen")
    return state


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(activations())
def test_seq_is_gap_free_and_durations_never_negative(items: list) -> None:
    by_incident: dict[str, list] = {}
    for event in run(items).events:
        by_incident.setdefault(event.incident_id, []).append(event)
        assert event.acknowledged_at == 0 or event.acknowledged_at >= event.detected_at
        assert event.resolved_at == 0 or event.resolved_at >= event.detected_at
        assert event.closed_at == 0 or event.closed_at >= event.resolved_at
    for events in by_incident.values():
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert str(events[0].kind) == "opened"


TOLERANCE = MIN


@st.composite
def alert_streams(draw: st.DrawFn) -> list:
    """Alert activations lasting longer than the tolerance, in event-time order."""
    items = []
    for name in draw(st.lists(st.sampled_from(FINGERPRINT_NAMES), min_size=1, max_size=4, unique=True)):
        start = T0 + draw(st.integers(0, 60)) * MIN + draw(st.integers(0, 59)) * 1000
        fired = alert(name, starts=start, **draw(st.sampled_from([{}, {"severity": "critical"}])))
        items.append(fired)
        if draw(st.booleans()):
            items.append(resolved(fired, start + draw(st.integers(2, 90)) * MIN))
    return sorted(items, key=lambda s: (s.at, s.fingerprint))


def incidents(outcome: Outcome) -> set:
    """Incidents as a set of what matters, ids aside (an id names the signal that opened it)."""
    return {
        (frozenset(i.members), i.detected_at, str(i.status), i.resolved_at, i.severity)
        for i in outcome.state.incidents.values()
    }


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(alert_streams(), st.randoms(use_true_random=False))
def test_shuffling_within_the_reorder_tolerance_gives_the_same_incidents(items: list, rnd: random.Random) -> None:
    jittered = sorted(items, key=lambda s: s.at + rnd.randrange(TOLERANCE))
    assert incidents(run(jittered)) == incidents(run(items))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(activations(), st.integers(0, 10 * 24 * 60))
def test_no_timer_fires_before_next_due(items: list, minutes_later: int) -> None:
    from models.engine import tick
    from models.timers import next_due

    state = run(items).state
    due = next_due(state, POLICY)
    probe = T0 + minutes_later * MIN
    _, events, _ = tick(state, probe, POLICY)
    if events:
        assert due and probe >= due, "a timer fired before next_due said it could"


def run_from(state: KeyState, items: list) -> Outcome:
    events = []
    for item in items:
        if isinstance(item, tuple):
            _, action, at = item
            if not state.incidents:
                continue
            item = command(action, list(state.incidents)[-1], at, text="t")
        state, emitted, _ = step(state, item, _event_time(item), POLICY)
        events += emitted
    return Outcome(state, events)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(activations(), st.lists(st.integers(0, 3 * 24 * 60), max_size=6))
def test_due_is_never_later_than_the_next_timer_and_next_due_always_fires(items: list, minutes: list[int]) -> None:
    from models.engine import tick
    from models.timers import next_due

    state = KeyState()
    for item in items:
        state = run_from(state, [item]).state
        due = next_due(state, POLICY)
        assert not state.due or not due or state.due <= due
        if due:
            after, _, _ = tick(state, due, POLICY)
            assert without_due(after) != without_due(state), "next_due named a time at which nothing happens"


def without_due(state: KeyState) -> dict:
    return {name: value for name, value in state.to_dict().items() if name != "due"}
