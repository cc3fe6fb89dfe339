"""Every key of the default policy changes behaviour when changed.

One scenario per key (its leaf path in ``tocsin policy``): the same inputs run under the
default and under the key changed (over a base, where a key only acts in company, e.g.
``open_after.within`` once more than one signal is needed), and what the engine did must
differ. A key added to the default without a scenario fails ``test_every_key_has_a_scenario``;
a key that does nothing fails its own.
"""

from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest
import yaml

from models.change import Change
from models.default_policy import DEFAULT_POLICY_YAML
from models.engine import correlation_key
from models.limits import Limits
from models.notification import body, plan, retry_delays
from models.parsers import parse_alerts
from models.policy import Policy, load_policy
from models.signal import Signal
from tests.support.engine import DAY, HOUR, MIN, T0, Run, alert, check, command, report, resolved

Scenario = Callable[[Policy], object]


def leaf_paths(node: object, path: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [p for key, value in node.items() for p in leaf_paths(value, f"{path}.{key}" if path else key)]
    return [path]


def events(policy: Policy, *inputs: object, ticks: tuple[int, ...] = ()) -> list[tuple]:
    """What the engine emitted, in order: (kind, incident number, severity, details keys)."""
    run = Run(policy=policy)
    for item in inputs:
        run.feed(item)
    for at in ticks:
        run.tick(at)
    numbers: dict[str, int] = {}
    return [(str(e.kind), numbers.setdefault(e.incident_id, len(numbers)), e.severity) for e in run.events]


def decisions(policy: Policy, *inputs: object) -> list[str]:
    run = Run(policy=policy)
    run.feed(*inputs)
    return [f"{d.outcome}:{d.reason}" for d in run.decisions]


def pagerduty_service(policy: Policy) -> str:
    """The service of the incident a PagerDuty trigger opens (its routing key mapped or not)."""
    body = {
        "routing_key": "R1",
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "db", "severity": "error"},
    }
    (trigger,) = parse_alerts(orjson.dumps(body), Limits(), T0, {}, policy.pagerduty_routes).inputs
    return Run(policy=policy).feed(trigger)[0].service


def changes_noted(policy: Policy) -> int:
    """How many changes an incident opening 30 minutes after a deploy notes."""
    run = Run(policy=policy)
    run.feed(Change("api", "deploy", T0 - 30 * MIN, change_id="c1"), now=T0 - 30 * MIN)
    run.feed(alert("SystemDown"))
    return len([e for e in run.events if str(e.kind) == "change_noted"])


def cloudevent_outcome(policy: Policy) -> str:
    """What becomes of a CloudEvent of a producer's own type."""
    body = {"specversion": "1.0", "id": "1", "source": "/p", "type": "com.example.alert.firing"}
    body["data"] = {"service": "pay", "title": "down", "status": "firing"}
    parsed = parse_alerts(orjson.dumps(body), Limits(), T0, {}, {}, policy.cloudevent_types)
    return parsed.rejections[0].reason if parsed.rejections else parsed.inputs[0].service


def notified(policy: Policy) -> list[dict]:
    """The bodies of the notifications a P0's pages and events make."""
    run = Run(policy=policy)
    run.feed(alert("SystemDown", severity="critical"))
    run.feed(command("ack", run.incident_id, T0 + MIN))
    notes = policy.notifications
    published = [e.to_dict() for e in run.events]
    return [body(n, notes.channels[n.channel], notes.public_url) for e in published for n in plan(e, notes)]


NOTIFY = "notifications: {channels: {a: {url: 'http://a'}}, routes: [{escalation: [{notify: a}], on: [acknowledged]}]}"


def runbook_of(policy: Policy, signal: Signal) -> str:
    return Run(policy=policy).feed(signal)[0].runbook_url


def as_source(signal: Signal, source: str) -> Signal:
    return replace(signal, source=source)


def stale(source: str) -> Scenario:
    """A firing signal of ``source`` never seen again, time passing."""
    signal = as_source(alert("Quiet"), source)
    return lambda p: events(p, signal, ticks=(T0 + 2 * HOUR,))


def failing_checks(count: int) -> list:
    return [check("fail", T0 + i * MIN) for i in range(count)]


def stale_check(p: Policy) -> list[tuple]:
    return events(p, *failing_checks(3), ticks=(T0 + 2 * HOUR,))


def stale_report(p: Policy) -> list[tuple]:
    return events(p, report(T0), ticks=(T0 + 2 * HOUR,))


def sla(severity: str, kind: str, default_ms: int) -> Scenario:
    """An incident of ``severity``, time passing 1.5× the default target."""
    labels = {"P0": {"severity": "critical"}, "P1": {"severity": "error"}, "P2": {"severity": "warning"}, "P3": {}}
    return lambda p: events(p, alert(**labels[severity]), ticks=(T0 + default_ms * 3 // 2,))


def flapping(p: Policy, gap: int = 3 * MIN) -> list[tuple]:
    """Five activations of one alert, ``gap`` apart: eight changes in 24 minutes, then quiet."""
    changes = []
    for i in range(5):
        a = alert("Flappy", starts=T0 + 2 * i * gap)
        changes += [a, resolved(a, T0 + (2 * i + 1) * gap)]
    return events(p, *changes, ticks=(T0 + 10 * gap + 20 * MIN,))


def resolved_p0(p: Policy, after: int) -> list[tuple]:
    a = alert(severity="critical")
    return events(p, a, resolved(a, T0 + MIN), ticks=(T0 + MIN + after,))


def key_of(p: Policy, signal: Signal) -> str:
    return correlation_key(signal, p)


def generic_identity(p: Policy) -> bool:
    body = b'{"service":"s","title":"%s","check":"c","labels":{"region":"eu"}}'
    first, second = (parse_alerts(body % t, Limits(), T0, p.dedup_fields).inputs[0] for t in (b"a", b"b"))
    return first.fingerprint == second.fingerprint


def repeats(p: Policy) -> int:
    """An alert re-sent every five seconds for a minute: how many receipts count."""
    run = Run(policy=p)
    for second in range(0, 60, 5):
        run.feed(alert("A"), now=T0 + second * 1000)
    return run.state.signals[alert("A").fingerprint].received


def downgrade(p: Policy) -> list[tuple]:
    body = b'{"service":"s","title":"t","dedup_key":"k","severity":"%s","starts_at":"2025-01-27T14:00:00Z"}'
    critical, warning = (
        parse_alerts(body % s, Limits(), T0, p.dedup_fields).inputs[0] for s in (b"critical", b"warning")
    )
    return events(p, critical, warning)


def retention(p: Policy) -> int:
    run = Run(policy=p)
    a = alert()
    run.feed(a, resolved(a, T0 + MIN))
    run.tick(T0 + 9 * DAY)
    return len(run.state.incidents)


# path → (base YAML, changed YAML, scenario)
SCENARIOS: dict[str, tuple[str, str, Scenario]] = {
    "correlation.key_labels": ("", "correlation: {key_labels: [alertname]}", lambda p: key_of(p, alert("Down"))),
    "correlation.group_by": (
        "",
        "correlation: {group_by: {alertmanager: [cluster]}}",
        lambda p: key_of(p, alert("Down", cluster="c1")),
    ),
    "correlation.dependencies": (
        "",
        "correlation: {dependencies: {checkout: [api]}}",
        lambda p: key_of(p, alert("Down", service="checkout")),
    ),
    "correlation.reopen_window": (
        "",
        "correlation: {reopen_window: 5m}",
        lambda p: events(p, alert("A"), resolved(alert("A"), T0 + MIN), alert("A", starts=T0 + 20 * MIN)),
    ),
    "correlation.max_age": (
        "",
        "correlation: {max_age: 1h}",
        lambda p: events(p, alert("A"), alert("B", starts=T0 + 2 * HOUR)),
    ),
    "correlation.quiet": (
        "",
        "correlation: {quiet: 10m}",
        lambda p: events(p, alert("A"), alert("B", starts=T0 + 30 * MIN)),
    ),
    "correlation.open_after.signals": ("", "correlation: {open_after: {signals: 2}}", lambda p: events(p, alert("A"))),
    "correlation.open_after.within": (
        "correlation: {open_after: {signals: 2}}",
        "correlation: {open_after: {within: 1m}}",
        lambda p: events(p, alert("A"), alert("B", starts=T0 + 3 * MIN)),
    ),
    "dedup.fields": ("", "dedup: {fields: {generic: [service, check]}}", generic_identity),
    "dedup.repeat_after": ("", "dedup: {repeat_after: 1s}", repeats),
    "checks.fail_after": (
        "",
        "checks: {fail_after: 2}",
        lambda p: events(p, *(check("fail", T0 + i * MIN) for i in range(2))),
    ),
    "checks.pass_after": (
        "",
        "checks: {pass_after: 1}",
        lambda p: events(p, *failing_checks(3), check("pass", T0 + 4 * MIN)),
    ),
    "checks.warn_counts_as_fail": (
        "",
        "checks: {warn_counts_as_fail: true}",
        lambda p: events(p, *(check("warn", T0 + i * MIN) for i in range(3))),
    ),
    "flapping.changes": ("", "flapping: {changes: 6}", flapping),
    "flapping.window": ("", "flapping: {window: 2m}", flapping),
    "flapping.quiet": ("", "flapping: {quiet: 30m}", flapping),
    "resolution.auto": (
        "",
        "resolution: {auto: manual}",
        lambda p: events(p, alert("A"), resolved(alert("A"), T0 + MIN)),
    ),
    "resolution.stale_after.alertmanager": ("", "resolution: {stale_after: {alertmanager: 1h}}", stale("alertmanager")),
    "resolution.stale_after.grafana": ("", "resolution: {stale_after: {grafana: 1h}}", stale("grafana")),
    "resolution.stale_after.pagerduty": ("", "resolution: {stale_after: {pagerduty: 1h}}", stale("pagerduty")),
    "resolution.stale_after.generic": ("", "resolution: {stale_after: {generic: 0}}", stale("generic")),
    "resolution.stale_after.check": ("", "resolution: {stale_after: {check: 0}}", stale_check),
    "resolution.stale_after.report": ("", "resolution: {stale_after: {report: 1h}}", stale_report),
    "severity.allow_downgrade": ("", "severity: {allow_downgrade: true}", downgrade),
    "severity.rules": (
        "",
        "severity: {rules: [{id: everything-p1, severity: P1, any: [{}]}]}",
        lambda p: events(p, alert("A")),
    ),
    "postmortem.severities": (
        "",
        "postmortem: {severities: [P0]}",
        lambda p: events(
            p, alert("A", severity="error"), resolved(alert("A", severity="error"), T0 + MIN), ticks=(T0 + 2 * DAY,)
        ),
    ),
    "postmortem.initial": ("", "postmortem: {initial: 48h}", lambda p: resolved_p0(p, 25 * HOUR)),
    "postmortem.detailed": ("", "postmortem: {detailed: 14d}", lambda p: resolved_p0(p, 8 * DAY)),
    "suppression.silences": (
        "",
        "suppression: {silences: [{matchers: {alertname: A}, starts_at: '2025-01-01T00:00:00Z', "
        "ends_at: '2026-01-01T00:00:00Z'}]}",
        lambda p: decisions(p, alert("A")),
    ),
    "suppression.maintenance": (
        "",
        "suppression: {maintenance: [{service: api, start: '00:00', end: '24:00'}]}",
        lambda p: decisions(p, alert("A")),
    ),
    "suppression.inhibit": (
        "",
        "suppression: {inhibit: [{source: {alertname: Down}, target: {severity: warning}, equal: [service]}]}",
        lambda p: decisions(p, alert("Down"), alert("Slow", severity="warning")),
    ),
    "retention.resolved": ("", "retention: {resolved: 30d}", retention),
    "pagerduty.routing_keys": (
        "",
        "pagerduty: {routing_keys: {R1: {service: pay}}}",
        pagerduty_service,
    ),
    "changes.window": ("", "changes: {window: 10m}", changes_noted),
    "cloudevents.types": (
        "",
        "cloudevents: {types: [{type: 'com.example.alert.*', format: tocsin.signal}]}",
        cloudevent_outcome,
    ),
    "notifications.public_url": (NOTIFY, "notifications: {public_url: 'https://tocsin.example'}", notified),
    "notifications.channels": (NOTIFY, "notifications: {channels: {a: {type: slack}}}", notified),
    "notifications.routes": ("", NOTIFY, notified),
    "notifications.delivery.max_backoff": (
        "",
        "notifications: {delivery: {max_backoff: 1s}}",
        lambda p: retry_delays(p.notifications.delivery),
    ),
    "notifications.delivery.give_up": (
        "",
        "notifications: {delivery: {give_up: 1m}}",
        lambda p: retry_delays(p.notifications.delivery),
    ),
    "runbook_base_url": ("", "runbook_base_url: https://wiki/runbooks/", lambda p: runbook_of(p, alert("SystemDown"))),
    "runbooks": ("", "runbooks: [{match: {service: api}, url: https://wiki/api}]", lambda p: runbook_of(p, alert("X"))),
}
for _severity, (_response, _resolution) in {
    "P0": (15 * MIN, 4 * HOUR),
    "P1": (HOUR, DAY),
    "P2": (4 * HOUR, 3 * DAY),
    "P3": (DAY, 7 * DAY),
}.items():
    for _kind, _ms in (("response", _response), ("resolution", _resolution)):
        SCENARIOS[f"sla.{_severity}.{_kind}"] = (
            "",
            f"sla: {{{_severity}: {{{_kind}: {_ms * 2 // MIN}m}}}}",
            sla(_severity, _kind, _ms),
        )


def test_every_key_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(leaf_paths(yaml.safe_load(DEFAULT_POLICY_YAML)))


@pytest.mark.parametrize("path", sorted(SCENARIOS))
def test_changing_the_key_changes_behaviour(path: str) -> None:
    base, changed, scenario = SCENARIOS[path]
    before = scenario(load_policy(base))
    after = scenario(load_policy(_merged(base, changed)))
    assert before != after, f"{path}: {changed!r} changed nothing ({before!r})"


def _merged(base: str, changed: str) -> str:
    def merge(a: dict, b: dict) -> dict:
        return {
            **a,
            **{k: merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v for k, v in b.items()},
        }

    return yaml.safe_dump(merge(yaml.safe_load(base) or {}, yaml.safe_load(changed)))


def test_a_command_needs_no_policy_key() -> None:
    """Commands act the same under any policy: they are the humans' word (a sanity check of
    the harness: a scenario that ignores the policy compares equal)."""
    run = Run()
    run.feed(alert("A"))
    assert events(load_policy(), alert("A"), command("ack", run.incident_id, T0 + MIN)) == events(
        load_policy("flapping: {changes: 6}"), alert("A"), command("ack", run.incident_id, T0 + MIN)
    )
