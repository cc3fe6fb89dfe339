"""The state store: what it writes restores exactly the live state, in small records.

The store works on any mutable mapping; a dict stands in for the Faust table here (the
integration tests run it on the real table and broker).
"""

from dataclasses import replace

import orjson
from hypothesis import given
from hypothesis import strategies as st

from models.engine import step_in_place, tick_in_place
from models.membership import recount
from models.policy import load_policy
from models.signal import Signal
from models.state import KeyState
from streams.state_store import StateStore, is_head
from tests.support.engine import HOUR, MIN, T0, alert, check, command, resolved

POLICY = load_policy()
# A gate of three signals and quick flapping: signals live outside incidents and change often.
GATED = load_policy("correlation:\n  open_after:\n    signals: 3\n    within: 5m\nflapping:\n  changes: 2\n")


def restored(table: dict, token: str) -> KeyState:
    return StateStore(table).load(token)


def plain(state: KeyState) -> bytes:
    """The state as JSON, dict order included (a restore must iterate as the live state did);
    ``due`` aside, which a store recomputes once per load."""
    return orjson.dumps(replace(state, due=0))


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


def split_key(table: dict, split_at: int, per_bucket: int, count: int) -> tuple[StateStore, KeyState, list]:
    """Key ``k`` with ``count`` firing alerts, saved (split into buckets) in ``table``."""
    store = StateStore(table, split_at=split_at, per_bucket=per_bucket)
    state, touched = store.load("k"), set()
    signals = [alert(f"A{i}", starts=T0) for i in range(count)]
    for signal in signals:
        step_in_place(state, signal, T0, POLICY, key="api", touched=touched)
    store.save("k", state, touched)
    return store, state, signals


def test_an_exact_duplicate_writes_nothing_and_one_change_writes_its_bucket() -> None:
    table: dict = {}
    store, state, signals = split_key(table, 64, 32, 500)
    touched: set[str] = set()
    step_in_place(state, signals[7], T0, POLICY, key="api", touched=touched)
    assert store.save("k", state, touched) == 0
    step_in_place(state, signals[7], T0 + MIN, POLICY, key="api", touched=touched)  # re-sent: repeat count
    assert store.save("k", state, touched) == 1  # its bucket, in place
    touched = set()
    step_in_place(state, resolved(signals[7], T0 + 2 * MIN), T0 + 2 * MIN, POLICY, key="api", touched=touched)
    before = set(table)
    assert store.save("k", state, touched) == 4  # journal, the bucket's new copy, the head, the old copy deleted
    assert len(set(table) - before) == 1 and len(before - set(table)) == 1
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


class Recording(dict):
    """A table that logs its writes in order, as the changelog receives them."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, bytes | None]] = []

    def __setitem__(self, key: str, value: bytes) -> None:
        self.log.append((key, value))
        super().__setitem__(key, value)

    def pop(self, key: str, default: object = None) -> object:
        if key in self:
            self.log.append((key, None))
        return super().pop(key, default)


def replayed(table: dict, log: list[tuple[str, bytes | None]]) -> dict:
    """What a successor restores from a changelog that received ``log`` after ``table``."""
    out = dict(table)
    for key, value in log:
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def garbage(table: dict) -> set[str]:
    """Records no head names: buckets a dead worker left behind."""
    named = set()
    for key, raw in table.items():
        if is_head(key):
            head = orjson.loads(raw)
            named |= {f"{key}\x1f{i}.{g}" for i, g in head.get("buckets", {}).items()}
            named |= {f"{key}\x1fw"} if head.get("buckets") else set()
    return set(table) - {k for k in table if is_head(k)} - named


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


def apply(state: KeyState, signal: Signal | None, now: int, touched: set[str]) -> None:
    """One input of a batch: a signal, or (``None``) a tick."""
    if signal is None:
        tick_in_place(state, now, GATED, touched=touched)
    else:
        step_in_place(state, signal, now, GATED, key="api", touched=touched)


@given(histories(), st.sampled_from([(2, 2), (8, 4)]), st.data())
def test_a_worker_killed_between_any_two_records_leaves_a_state_its_successor_completes(
    items: list, layout: tuple[int, int], data
) -> None:
    """A save cut short after any of its records: the successor applies the batch again to
    what it restored and reaches the live state; every record no head names is one it will
    delete. A save that rewrote the head restores as it was before or after, whole."""
    split_at, per_bucket = layout
    table = Recording()
    store = StateStore(table, split_at=split_at, per_bucket=per_bucket)
    state, touched, batch, sent = store.load("k"), set(), [], {}
    for action, name, start, now in items:
        if action in ("fire", "resolve"):
            signal = alert(name, starts=start)
            sent[name] = resolved(signal, max(now, start)) if action == "resolve" else signal
            batch.append((sent[name], now))
        elif action == "tick":
            batch.append((None, now))
        elif action != "batch" and name in sent:  # the others: a re-send of the name's last signal
            batch.append((sent[name], now))
        if action != "batch":
            if batch:
                apply(state, *batch[-1], touched)
            continue
        if not touched:
            batch = []
            continue
        before, was = dict(table), plain(restored(table, "k"))
        table.log.clear()
        store.save("k", state, touched)
        cut = data.draw(st.integers(0, len(table.log)))
        crashed = replayed(before, table.log[:cut])
        if any(key == "k" for key, _ in table.log):
            assert plain(restored(crashed, "k")) in (was, plain(state))
        successor = StateStore(crashed, split_at=split_at, per_bucket=per_bucket)
        again, replay_touched = successor.load("k"), set()
        for signal, at in batch:
            apply(again, signal, at, replay_touched)
        successor.save("k", again, replay_touched)
        assert plain(restored(crashed, "k")) == plain(state)
        left = set(successor._stored("k").leftover)  # a save that wrote nothing leaves them to the next
        assert garbage(crashed) <= left, sorted(garbage(crashed) - left)
        touched, batch = set(), []


def test_a_state_stored_by_the_in_place_layout_is_restored_and_moved_to_copies() -> None:
    """Heads written before buckets were copy-on-write name bare ids (``token\\x1f<id>``)."""
    table: dict = {}
    _, state, signals = split_key(table, 8, 4, 40)
    head = orjson.loads(table.pop("k"))
    legacy = {f"k\x1f{i}": table.pop(f"k\x1f{i}.{g}") for i, g in head.pop("buckets").items()}
    del head["generation"], table["k\x1fw"]
    table.update(legacy, k=orjson.dumps({**head, "buckets": sorted(int(i) for i in legacy_ids(legacy))}))
    assert plain(restored(table, "k")) == plain(state)
    successor, touched = StateStore(table, split_at=8, per_bucket=4), set()
    live = successor.load("k")
    step_in_place(live, resolved(signals[0], T0 + MIN), T0 + MIN, POLICY, key="api", touched=touched)
    successor.save("k", live, touched)
    assert plain(restored(table, "k")) == plain(live)


def legacy_ids(records: dict) -> list[str]:
    return [key.rsplit("\x1f", 1)[1] for key in records]
