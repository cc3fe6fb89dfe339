"""``models.replay``: recorded inputs and ticks, applied again, publish the recorded events.

A live run is simulated the way the correlator runs the engine: inputs arrive over two
hours for three services, ticks reach every due key every 30 s, and the signal log keeps
each input and each tick that changed a key. Replaying that log must give the same events,
ids and order included; a changed policy must show its effect.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.backtest import against_recorded, differences, summary
from models.correlation import key_token
from models.engine import routing_key, step_in_place, tick_in_place
from models.policy import load_policy
from models.replay import Recorded, replay
from models.state import KeyState
from models.timers import scheduled
from tests.support.engine import MIN, T0, alert, check, resolved

POLICY = load_policy()
TICK_EVERY = 30_000


def live(arrivals: list[tuple[int, object]], policy=POLICY) -> tuple[list, list[Recorded], int]:
    """Events published and the log kept, as the correlator would, for inputs at their
    arrival; ticks go on for a minute after the last input. Returns the last tick's time."""
    states: dict[str, KeyState] = {}
    events, log, clock = [], [], T0

    def ticks_until(now: int) -> None:
        nonlocal clock, events
        while clock + TICK_EVERY <= now:
            clock += TICK_EVERY
            for token, state in states.items():
                if (due := scheduled(state, policy)) and due <= clock:
                    changed: set[str] = set()
                    events += tick_in_place(state, clock, policy, touched=changed)
                    if changed:
                        log.append(Recorded(token, state.key, clock, None))

    for now, item in sorted(arrivals, key=lambda a: a[0]):
        ticks_until(now)
        token = routing_key(item, policy)
        state = states.setdefault(token, KeyState())
        emitted, _ = step_in_place(state, item, now, policy)
        events += emitted
        log.append(Recorded(token, state.key, now, item))
    ticks_until(max(now for now, _ in arrivals) + 2 * TICK_EVERY)
    return events, log, clock


@st.composite
def outages(draw: st.DrawFn) -> list[tuple[int, object]]:
    """Alerts (some resolving), smoke-test results, for three services, arriving with lag."""
    arrivals = []
    for n in range(draw(st.integers(1, 12))):
        service = draw(st.sampled_from(["api", "db", "web"]))
        start = T0 + draw(st.integers(0, 90)) * MIN
        fired = alert(
            f"A{n % 4}", service=service, starts=start, **draw(st.sampled_from([{}, {"severity": "critical"}]))
        )
        arrivals.append((start + draw(st.integers(0, 120)) * 1000, fired))
        if draw(st.booleans()):
            end = start + draw(st.integers(1, 40)) * MIN
            arrivals.append((end + 5000, resolved(fired, end)))
    for minute in draw(st.lists(st.integers(0, 100), max_size=6)):
        status = draw(st.sampled_from(["fail", "pass"]))
        arrivals.append((T0 + minute * MIN + 1000, check(status, T0 + minute * MIN, service="api")))
    return arrivals


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outages())
def test_replaying_the_log_publishes_the_recorded_events(arrivals: list) -> None:
    events, log, until = live(arrivals)
    replayed = replay(log, POLICY, until)
    assert [e.to_dict() for e in replayed.events] == [e.to_dict() for e in events]
    verdict = against_recorded(replayed, {e.event_id for e in events}, T0 - 86_400_000)
    assert verdict["identical_to_recorded"] and verdict["recorded_events"] == len({e.event_id for e in events})


def test_a_changed_policy_shows_what_it_would_have_done() -> None:
    """Three failed smoke tests open an incident; a candidate asking for four would not."""
    arrivals = [(T0 + n * MIN + 1000, check("fail", T0 + n * MIN, service="api")) for n in range(3)]
    arrivals += [(T0 + 2 * MIN, alert("Latency", service="web", starts=T0 + MIN, severity="warning"))]
    _, log, until = live(arrivals)
    baseline = replay(log, POLICY, until)
    candidate = replay(log, load_policy("checks:\n  fail_after: 4\n"), until)
    assert summary(baseline)["incidents"] == 2 and summary(candidate)["incidents"] == 1
    diff = differences(baseline, candidate)
    assert (diff["only_in_baseline"], diff["only_in_candidate"], diff["merged"]) == (1, 0, 0)
    (gone,) = diff["first"]
    assert gone["change"] == "not opened" and gone["incident"].startswith(key_token("api"))
