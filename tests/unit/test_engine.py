"""The skeleton engine: open on first firing, resolve when all resolved, replays are no-ops."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from models.engine import step
from models.incident import IncidentStatus, KeyState
from models.lifecycle import EventKind
from models.signal import Signal, SignalStatus

KEY = "apex-api"
T0 = 1737986400000  # 2025-01-27T14:00:00Z
MIN = 60_000


def sig(fp: str, status: str = "firing", starts: int = T0, ends: int = 0) -> Signal:
    return Signal(
        source="alertmanager",
        fingerprint=fp,
        status=SignalStatus(status),
        starts_at=starts,
        ends_at=ends,
        service=KEY,
        title=f"alert {fp}",
    )


def run(signals: list[Signal], state: KeyState | None = None) -> tuple[KeyState, list]:
    state = state or KeyState()
    events = []
    for signal in signals:
        state, emitted = step(state, KEY, signal)
        events += emitted
    return state, events


def test_first_firing_opens_at_its_start() -> None:
    state, events = run([sig("a")])
    assert [(e.kind, e.seq, e.at) for e in events] == [(EventKind.OPENED, 1, T0)]
    assert state.incident.status is IncidentStatus.OPEN


def test_repeats_and_more_alerts_only_count() -> None:
    state, events = run([sig("a"), sig("a"), sig("b", starts=T0 + MIN)])
    assert len(events) == 1
    assert state.incident.signal_count == 3


def test_group_resolving_one_by_one_resolves_at_the_last_end() -> None:
    _, events = run(
        [
            sig("a"),
            sig("b", starts=T0 + MIN),
            sig("a", "resolved", ends=T0 + 30 * MIN),
            sig("b", "resolved", starts=T0 + MIN, ends=T0 + 45 * MIN),
        ]
    )
    assert [(e.kind, e.at, e.seq) for e in events] == [
        (EventKind.OPENED, T0, 1),
        (EventKind.RESOLVED, T0 + 45 * MIN, 2),
    ]
    assert events[0].incident_id == events[1].incident_id


def test_late_redelivery_of_a_resolved_activation_is_ignored() -> None:
    state, events = run([sig("a"), sig("a", "resolved", ends=T0 + MIN), sig("a")])
    assert [e.kind for e in events] == [EventKind.OPENED, EventKind.RESOLVED]
    assert state.incident.status is IncidentStatus.RESOLVED


def test_new_activation_after_resolution_opens_a_new_incident() -> None:
    _, events = run([sig("a"), sig("a", "resolved", ends=T0 + MIN), sig("a", starts=T0 + 10 * MIN)])
    assert [e.kind for e in events] == [EventKind.OPENED, EventKind.RESOLVED, EventKind.OPENED]
    assert events[0].incident_id != events[2].incident_id


def test_resolved_without_incident_changes_nothing_visible() -> None:
    _, events = run([sig("a", "resolved", ends=T0)])
    assert events == []


def test_state_round_trips_through_dict() -> None:
    state, _ = run([sig("a"), sig("b"), sig("a", "resolved", ends=T0 + MIN)])
    assert KeyState.from_dict(state.to_dict()) == state


def test_step_does_not_mutate_its_input() -> None:
    state, _ = run([sig("a")])
    before = state.to_dict()
    step(state, KEY, sig("a", "resolved", ends=T0 + MIN))
    assert state.to_dict() == before


signals = st.lists(
    st.builds(
        lambda fp, resolved, start, length: sig(
            fp, "resolved" if resolved else "firing", T0 + start * MIN, T0 + (start + length) * MIN if resolved else 0
        ),
        st.sampled_from(["a", "b", "c"]),
        st.booleans(),
        st.integers(0, 5),
        st.integers(1, 5),
    ),
    max_size=30,
)


@given(signals)
def test_same_inputs_same_events(inputs: list[Signal]) -> None:
    assert run(inputs)[1] == run(inputs)[1]


@given(signals, st.data())
def test_reapplying_any_input_is_a_no_op(inputs: list[Signal], data: st.DataObject) -> None:
    state, _ = run(inputs)
    if not inputs:
        return
    again = data.draw(st.sampled_from(inputs))
    _, events = step(state, KEY, replace(again))
    assert events == []


@given(signals)
def test_seq_is_gap_free_and_durations_non_negative(inputs: list[Signal]) -> None:
    _, events = run(inputs)
    by_incident: dict[str, list] = {}
    for event in events:
        by_incident.setdefault(event.incident_id, []).append(event)
    for incident_events in by_incident.values():
        assert [e.seq for e in incident_events] == list(range(1, len(incident_events) + 1))
        opened = incident_events[0]
        assert opened.kind is EventKind.OPENED
        assert all(e.at >= opened.at for e in incident_events)
