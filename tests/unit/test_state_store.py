"""The state store: what it writes restores exactly the live state, in small records.

The store works on any mutable mapping; a dict stands in for the Faust table here (the
integration tests run it on the real table and broker).
"""

import orjson
from hypothesis import given
from hypothesis import strategies as st

from models.engine import step_in_place, tick_in_place
from models.membership import recount
from models.policy import load_policy
from models.state import KeyState
from streams.state_store import StateStore, is_head
from tests.support.engine import HOUR, MIN, T0, alert, check, command, resolved

POLICY = load_policy()
# A gate of three signals and quick flapping: signals live outside incidents and change often.
GATED = load_policy("correlation:\n  open_after:\n    signals: 3\n    within: 5m\nflapping:\n  changes: 2\n")


def restored(table: dict, token: str) -> KeyState:
    return StateStore(table).load(token)


def plain(state: KeyState) -> bytes:
    """The state as JSON, dict order included (a restore must iterate as the live state did)."""
    return orjson.dumps(state)


def test_a_big_incident_is_stored_in_small_records_and_restored_in_order() -> None:
    table: dict = {}
    store = StateStore(table, split_at=64, per_bucket=32)
    state = store.load("k")
    for batch in range(10):
        touched: set[str] = set()
        for i in range(batch * 100, batch * 100 + 100):
            step_in_place(state, alert(f"A{i}", starts=T0 + i), T0 + i, POLICY, key="api", touched=touched)
        store.save("k", state, touched)
        assert plain(restored(table, "k")) == plain(state)
    assert len(state.incidents) == 1 and len(next(iter(state.incidents.values())).members) == 1000
    assert max(len(v) for v in table.values()) < 64 * 1024
    assert sum(1 for k in table if not is_head(k)) >= 16


def test_an_exact_duplicate_writes_nothing_and_one_change_writes_its_bucket() -> None:
    table: dict = {}
    store = StateStore(table, split_at=64, per_bucket=32)
    state, touched = store.load("k"), set()
    signals = [alert(f"A{i}", starts=T0) for i in range(500)]
    for s in signals:
        step_in_place(state, s, T0, POLICY, key="api", touched=touched)
    store.save("k", state, touched)
    touched = set()
    step_in_place(state, signals[7], T0 + MIN, POLICY, key="api", touched=touched)
    assert store.save("k", state, touched) == 0
    step_in_place(state, resolved(signals[7], T0 + 2 * MIN), T0 + 2 * MIN, POLICY, key="api", touched=touched)
    assert store.save("k", state, touched) == 2  # the head (events' seq) and one bucket
    assert plain(restored(table, "k")) == plain(state)


def test_a_key_that_shrinks_goes_back_to_one_record() -> None:
    table: dict = {}
    store = StateStore(table, split_at=64, per_bucket=32)
    state, touched = store.load("k"), set()
    signals = [alert(f"A{i}", starts=T0) for i in range(300)]
    for s in signals:
        step_in_place(state, s, T0, POLICY, key="api", touched=touched)
    for s in signals:
        step_in_place(state, resolved(s, T0 + MIN), T0 + MIN, POLICY, key="api", touched=touched)
    store.save("k", state, touched)
    touched = set()
    tick_in_place(state, T0 + 400 * 24 * HOUR, POLICY, touched=touched)  # past every retention
    store.save("k", state, touched)
    assert list(table) == ["k"]
    assert plain(restored(table, "k")) == plain(state)


def test_a_gated_signal_that_resolves_is_rewritten() -> None:
    table: dict = {}
    store = StateStore(table, split_at=1, per_bucket=1)
    state, touched = store.load("k"), set()
    for name in ("A", "B"):
        step_in_place(state, alert(name, starts=T0), T0, GATED, key="api", touched=touched)
    store.save("k", state, touched)
    touched = set()
    step_in_place(state, resolved(alert("A", starts=T0), T0 + MIN), T0 + MIN, GATED, key="api", touched=touched)
    store.save("k", state, touched)
    assert not state.incidents and plain(restored(table, "k")) == plain(state)


@st.composite
def histories(draw: st.DrawFn) -> list:
    names = [f"A{i}" for i in range(draw(st.integers(1, 8)))]
    items = []
    for minute in range(draw(st.integers(1, 60))):
        name = draw(st.sampled_from(names))
        start = T0 + draw(st.integers(0, 30)) * MIN
        action = draw(st.sampled_from(["fire", "fire", "resolve", "tick", "ack", "note", "check", "batch"]))
        items.append((action, name, start, T0 + minute * MIN))
    return items


@given(histories(), st.sampled_from([(2, 2), (8, 4), (10_000, 256)]), st.sampled_from([POLICY, GATED]))
def test_restoring_after_any_batch_gives_the_live_state(items: list, layout: tuple[int, int], policy) -> None:
    split_at, per_bucket = layout
    table: dict = {}
    store = StateStore(table, split_at=split_at, per_bucket=per_bucket)
    state, touched = store.load("k"), set()
    for action, name, start, now in items:
        if action == "batch":
            store.save("k", state, touched)
            touched = set()
            assert plain(restored(table, "k")) == plain(state)
        elif action == "tick":
            tick_in_place(state, now, policy, touched=touched)
        elif action in ("ack", "note") and state.incidents:
            order = command(action, list(state.incidents)[-1], now, text=name)
            step_in_place(state, order, now, policy, touched=touched)
        elif action == "check":
            result = check("fail" if start % 2 else "pass", now, region=name)
            step_in_place(state, result, now, policy, key="api", touched=touched)
        elif action in ("fire", "resolve"):
            signal = alert(name, starts=start)
            signal = resolved(signal, max(now, start)) if action == "resolve" else signal
            step_in_place(state, signal, now, policy, key="api", touched=touched)
    store.save("k", state, touched)
    assert plain(restored(table, "k")) == plain(state)
    for incident in state.incidents.values():
        assert incident.tally == recount(incident)
