"""The staleness watchdog (``resolution.stale_after``) and repeat counts: a signal still
being sent stays fresh, one that stopped resolves at last-seen + timeout, and every
signal counts its receipts (``received``) and shows them with ``last_seen`` on its events."""

from models.policy import load_policy
from models.timestamps import format_ms
from tests.support.engine import MIN, T0, Run, alert, check, resolved
from tests.unit.test_policy_keys import as_source


def test_a_signal_no_longer_sent_resolves_at_last_seen_plus_timeout() -> None:
    run = Run(policy=load_policy("resolution: {stale_after: {alertmanager: 10m}}"))
    run.feed(alert("A"))
    run.tick(T0 + 9 * MIN)
    assert run.kinds() == ["opened"]
    run.tick(T0 + 30 * MIN)
    resolved = [e for e in run.events if str(e.kind) == "signal_resolved"]
    assert resolved[0].at == T0 + 10 * MIN and resolved[0].details["stale"] == "true"
    assert run.kinds()[-1] == "resolved"


def test_re_sends_keep_a_signal_fresh() -> None:
    run = Run(policy=load_policy("resolution: {stale_after: {generic: 10m}}"))
    signal = as_source(alert("A"), "generic")
    for minute in range(0, 60, 5):  # the same alert, unchanged, every five minutes
        run.feed(signal, now=T0 + minute * MIN)
        run.tick(T0 + minute * MIN + MIN)
    assert run.kinds() == ["opened"]
    known = run.state.signals[signal.fingerprint]
    assert (known.received, known.last_seen) == (12, T0 + 55 * MIN)
    run.tick(T0 + 66 * MIN)
    assert run.kinds()[-2:] == ["signal_resolved", "resolved"] and run.events[-2].at == T0 + 65 * MIN


def test_a_check_that_keeps_failing_is_not_stale() -> None:
    run = Run(policy=load_policy("resolution: {stale_after: {check: 10m}}"))
    for minute in range(60):
        run.feed(check("fail", T0 + minute * MIN))
        run.tick(T0 + minute * MIN + 30_000)
    assert run.kinds() == ["opened"]
    run.tick(T0 + 80 * MIN)  # the probe went silent at +59m
    assert run.kinds()[-2:] == ["signal_resolved", "resolved"] and run.events[-2].at == T0 + 69 * MIN


def test_signal_events_carry_the_repeat_count_and_last_seen() -> None:
    run = Run()
    a = alert("A")
    run.feed(a)
    for minute in (1, 2, 3):
        run.feed(a, now=T0 + minute * MIN)
    run.feed(a, now=T0 + 3 * MIN)  # the same delivery again (a replay): not a repeat
    events = run.feed(resolved(a, T0 + 4 * MIN))
    signal_resolved = next(e for e in events if str(e.kind) == "signal_resolved")
    assert signal_resolved.details["received"] == "5"
    assert signal_resolved.details["last_seen"] == format_ms(T0 + 4 * MIN)
    assert run.decisions[1].outcome == "duplicate"


def test_copies_within_repeat_after_count_once() -> None:
    """An Alertmanager HA pair sends each notification twice, milliseconds apart."""
    run = Run()
    a = alert("A")
    for minute in range(3):
        run.feed(a, now=T0 + minute * MIN)
        run.feed(a, now=T0 + minute * MIN + 40)  # the peer's copy
    known = run.state.signals[a.fingerprint]
    assert (known.received, known.last_seen) == (3, T0 + 2 * MIN)
