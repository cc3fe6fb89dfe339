"""Silences made at run time: what they mute, and what happens when they end."""

import pytest

from models.engine import muted_by, recheck
from models.inhibition import inhibitor_id, inhibitors
from models.matchers import Matcher, format_matchers, parse_any_matchers, parse_matcher_text
from models.policy import load_policy
from models.replay import Recorded, replay
from models.silence import SilenceState, expire, new_silence, newer, silence_id_of
from models.state import Outcome
from models.timers import next_due, scheduled
from tests.support.engine import HOUR, MIN, T0, Run, alert, resolved


def silenced_run(text: str = '{service="api", alertname=~"Disk.*"}', starts: int = T0, hours: int = 1) -> Run:
    silence = new_silence(parse_matcher_text(text), starts, starts + hours * HOUR, now=starts, created_by="ann")
    return Run(policy=load_policy().with_silences({silence.silence_id: silence}))


def only_silence(run: Run):
    return next(iter(run.policy.live_silences.values()))


def test_a_silence_mutes_what_arrives_while_it_is_active_and_names_itself() -> None:
    run = silenced_run()
    run.feed(alert("DiskFull"), alert("SystemDown"))
    muted, other = run.decisions
    silence = only_silence(run)
    assert muted.outcome is Outcome.SUPPRESSED and silence_id_of(muted.reason) == silence.silence_id
    assert other.outcome is Outcome.ACCEPTED, "a signal the matchers do not match is not muted"
    assert run.kinds() == ["opened"]


def test_a_signal_that_started_before_the_silence_is_muted_when_it_arrives_during_it() -> None:
    run = silenced_run(starts=T0 + 10 * MIN)
    run.feed(alert("DiskFull", starts=T0), now=T0 + 20 * MIN)
    assert run.decisions[0].outcome is Outcome.SUPPRESSED
    run.feed(alert("DiskWear", starts=T0 + 5 * MIN), now=T0 + 5 * MIN)  # before the silence
    assert run.decisions[1].outcome is Outcome.ACCEPTED


def test_a_still_firing_signal_opens_an_incident_when_its_silence_ends() -> None:
    run = silenced_run()
    run.feed(alert("DiskFull"), now=T0 + MIN)
    assert next_due(run.state, run.policy) == T0 + HOUR == scheduled(run.state, run.policy)
    assert run.tick(T0 + HOUR - 1) == []
    events = run.tick(T0 + HOUR)
    assert run.kinds(events) == ["opened"]
    assert run.state.signals[alert("DiskFull").fingerprint].suppressed == ""
    run.feed(alert("DiskFull"), now=T0 + HOUR + MIN)  # Alertmanager re-sends it: a duplicate
    assert run.decisions[-1].outcome is Outcome.DUPLICATE and run.kinds() == ["opened"]


def test_a_signal_that_resolved_under_its_silence_opens_nothing_when_it_ends() -> None:
    run = silenced_run()
    run.feed(alert("DiskFull"), now=T0 + MIN)
    run.feed(resolved(alert("DiskFull"), T0 + 30 * MIN), now=T0 + 30 * MIN)
    assert run.tick(T0 + 2 * HOUR) == [] and run.events == []


def test_expired_early_the_silence_lets_the_signal_through_at_the_expiry() -> None:
    run = silenced_run(hours=4)
    run.feed(alert("DiskFull"), now=T0 + MIN)
    silence = only_silence(run)
    assert muted_by(run.state, silence.silence_id)
    ended = expire(silence, T0 + 10 * MIN)
    assert ended.state(T0 + 10 * MIN) is SilenceState.EXPIRED and newer(silence, ended)
    run.policy = run.policy.with_silences({silence.silence_id: ended})
    events = recheck(run.state, T0 + 10 * MIN, run.policy)
    assert [str(e.kind) for e in events] == ["opened"] and not muted_by(run.state, silence.silence_id)


def test_another_active_silence_keeps_it_muted_under_its_own_id() -> None:
    first = new_silence(parse_matcher_text("alertname=DiskFull"), T0, T0 + HOUR, now=T0)
    second = new_silence(parse_matcher_text("service=api"), T0, T0 + 3 * HOUR, now=T0, comment="migration")
    run = Run(policy=load_policy().with_silences({s.silence_id: s for s in (first, second)}))
    run.feed(alert("DiskFull"), now=T0 + MIN)
    assert silence_id_of(run.decisions[0].reason) == first.silence_id
    assert run.tick(T0 + HOUR) == []
    assert silence_id_of(run.state.signals[alert("DiskFull").fingerprint].suppressed) == second.silence_id
    assert run.kinds(run.tick(T0 + 3 * HOUR)) == ["opened"]


def test_silence_ids_come_from_content_and_start_no_earlier_than_creation() -> None:
    matchers = parse_matcher_text("service=api")
    a = new_silence(matchers, T0 - HOUR, T0 + HOUR, now=T0, created_by="ann")
    assert a == new_silence(matchers, T0 - HOUR, T0 + HOUR, now=T0, created_by="ann"), "a retried request"
    assert a.starts_at == T0
    assert a.silence_id != new_silence(matchers, T0, T0 + HOUR, now=T0, created_by="bob").silence_id
    with pytest.raises(ValueError):
        new_silence(matchers, T0, T0 - MIN, now=T0)
    assert not newer(expire(a, T0 + MIN), a), "an older version does not replace a newer one"


def test_alertmanager_matcher_syntax_and_api_objects() -> None:
    parsed = parse_matcher_text('{service="db", env=~"staging|dev", team!="a,b", alertname!~"Watch.*"}')
    assert parsed == (
        Matcher("service", "=", "db"),
        Matcher("env", "=~", "staging|dev"),
        Matcher("team", "!=", "a,b"),
        Matcher("alertname", "!~", "Watch.*"),
    )
    assert parse_matcher_text(format_matchers(parsed)) == parsed
    assert parse_matcher_text('a="say \\"hi\\""') == (Matcher("a", "=", 'say "hi"'),)
    objects = [{"name": "env", "value": "dev|qa", "isRegex": True, "isEqual": False}, {"name": "x", "value": "1"}]
    assert parse_any_matchers(objects) == (Matcher("env", "!~", "dev|qa"), Matcher("x", "=", "1"))
    assert parse_any_matchers(["a=1", 'b=~"2"']) == (Matcher("a", "=", "1"), Matcher("b", "=~", "2"))
    for bad in ("{a~x}", "", '{a=~"("}', "{1a=x}"):
        with pytest.raises(ValueError):
            parse_any_matchers(bad)


def test_a_replay_lets_signals_through_where_the_live_engine_did() -> None:
    """Live: muted, then the silence expired early and its key rechecked at the expiry (the
    correlator logs that as a tick). The replay, knowing the silence from the start, publishes
    the same events at the same times."""
    silence = new_silence(parse_matcher_text("service=api"), T0, T0 + 4 * HOUR, now=T0)
    ended = expire(silence, T0 + 10 * MIN)
    live = Run(policy=load_policy().with_silences({silence.silence_id: silence}))
    live.feed(alert("DiskFull"), now=T0 + MIN)
    live.policy = live.policy.with_silences({silence.silence_id: ended})
    live.events += recheck(live.state, T0 + 10 * MIN, live.policy)
    token = "t"
    log = [
        Recorded(token, "api", T0 + MIN, alert("DiskFull")),
        Recorded("", "", ended.updated_at, ended),
        Recorded(token, "api", T0 + 10 * MIN, None),
    ]
    replayed = replay(log, load_policy(), T0 + 10 * MIN, silences=[silence])
    assert [e.to_dict() for e in replayed.events] == [e.to_dict() for e in live.events]
    assert [str(e.kind) for e in live.events] == ["opened"] and live.events[0].event_id
    unexpired = replay([log[0], log[2]], load_policy(), T0 + 10 * MIN, silences=[silence])
    assert unexpired.events == [], "without the expiry the silence still mutes it"


def test_an_inhibiting_source_asks_for_a_silence_of_its_targets_while_it_fires() -> None:
    rules = (
        "suppression: {inhibit: [{source: {alertname: SystemDown}, target: {severity: warning}, equal: [cluster]},"
        " {source: {alertname: SystemDown}, target: {severity: warning}, dependents: true}]}\n"
        "correlation: {dependencies: {web: [db], shop: [web], mail: []}}\n"
    )
    run = Run(policy=load_policy(rules))
    down = alert("SystemDown", service="db", cluster="c1")
    run.feed(down)
    by_rule = list(inhibitors(run.state, "tok", [down.fingerprint], run.policy))
    assert [i.matchers for i in by_rule] == [
        (Matcher("severity", "=", "warning"), Matcher("cluster", "=", "c1")),
        (Matcher("severity", "=", "warning"), Matcher("service", "=~", "shop|web")),
    ]
    assert by_rule[0].comment == "inhibited by SystemDown on db"
    assert by_rule[0].silence_id == inhibitor_id(0, "tok", down.fingerprint) != by_rule[1].silence_id
    run.feed(resolved(down, T0 + MIN))
    assert all(i.matchers is None for i in inhibitors(run.state, "tok", [down.fingerprint], run.policy))


def test_within_a_key_dependents_limits_inhibition_to_services_that_depend_on_the_source() -> None:
    rules = (
        "suppression: {inhibit: [{source: {alertname: SystemDown}, target: {severity: warning}, dependents: true}]}\n"
        "correlation: {dependencies: {web: [db], mail: [smtp]}}\n"
    )
    run = Run(policy=load_policy(rules))
    run.feed(alert("SystemDown", service="db"), alert("Slow", service="web", severity="warning"))
    assert run.decisions[-1].outcome is Outcome.SUPPRESSED and run.decisions[-1].reason == "inhibited: by SystemDown"
    other = Run(policy=run.policy)
    other.feed(alert("SystemDown", service="smtp"), alert("Slow", service="db", severity="warning"))
    assert other.decisions[-1].outcome is not Outcome.SUPPRESSED, "db does not depend on smtp"
