"""The timer index: due keys pop earliest first, superseded and cleared times never fire."""

from hypothesis import given
from hypothesis import strategies as st

from streams.timer_index import TimerIndex


def test_due_keys_pop_in_time_order_and_leave() -> None:
    index = TimerIndex()
    index.schedule(0, "b", 20)
    index.schedule(0, "a", 10)
    index.schedule(1, "c", 5)
    assert index.pop_due(0, 15) == ["a"]
    assert (0, "a") not in index and (0, "b") in index
    assert index.pop_due(0, 100) == ["b"]
    assert index.pop_due(1, 4) == [] and index.pop_due(1, 5) == ["c"]
    assert len(index) == 0


def test_rescheduled_and_cleared_keys_fire_only_at_their_last_time() -> None:
    index = TimerIndex()
    index.schedule(0, "k", 10)
    index.schedule(0, "k", 30)
    index.schedule(0, "gone", 10)
    index.schedule(0, "gone", 0)
    assert index.pop_due(0, 20) == []
    assert index.pop_due(0, 30) == ["k"]


def test_dropped_partitions_are_forgotten() -> None:
    index = TimerIndex()
    index.schedule(0, "a", 1)
    index.schedule(1, "b", 1)
    index.drop({0})
    assert index.pop_due(0, 10) == [] and index.pop_due(1, 10) == ["b"]


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 50)), max_size=400), st.integers(0, 50))
def test_pop_due_equals_a_plain_dict(updates: list[tuple[str, int]], now: int) -> None:
    index, plain = TimerIndex(), {}
    for token, at in updates:
        index.schedule(0, token, at)
        plain[token] = at
    expected = sorted((at, t) for t, at in plain.items() if 0 < at <= now)
    assert index.pop_due(0, now) == [t for _, t in expected]
    assert len(index) == sum(1 for at in plain.values() if at > now)
    assert len(index.heaps.get(0, [])) <= 2 * len(index) + 65  # superseded entries are compacted
