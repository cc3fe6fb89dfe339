"""Escalation, reminders and notification planning, in the pure engine (``models.escalation``,
``models.notification``): steps fire once each at their deadline, stop on acknowledge, survive a
state round-trip, and each event plans the notifications the policy says."""

import pytest

from models.engine import tick
from models.lifecycle import EventKind
from models.notification import body, headers, plan, retry_delays
from models.notifications import Delivery
from models.policy import PolicyError, load_policy
from models.state import KeyState
from tests.support.engine import MIN, SEC, T0, Run, alert, command, resolved

POLICY = """
notifications:
  public_url: https://tocsin.example
  channels:
    oncall: {type: webhook, url: "https://pager.example/hook", headers: {Authorization: "Bearer x"}}
    chat: {type: slack, url: "https://hooks.slack.example/T000/B000/XXX"}
  routes:
    - match: {severity: [P0, P1]}
      escalation:
        - {after: 0m, notify: [oncall, chat]}
        - {after: 15m, notify: [oncall], repeat: 10m}
      updates: {every: 30m, notify: [chat]}
      on: [opened, acknowledged, severity_changed, resolved, sla_breached]
    - match: {}
      escalation: [{after: 0m, notify: [chat]}]
      on: [opened, resolved]
"""


def pages(run: Run) -> list[tuple[int, str, str]]:
    return [
        ((e.at - T0) // MIN, e.details["step"], e.details["page"]) for e in run.events if e.kind is EventKind.ESCALATED
    ]


def test_a_p0_pages_at_once_then_re_pages_until_acknowledged() -> None:
    run = Run(policy=load_policy(POLICY))
    opened = run.feed(alert("SystemDown", severity="critical"))
    assert [str(e.kind) for e in opened] == ["opened", "escalated"]  # the first page goes out with the opening
    for minute in (14, 15, 20, 25, 26, 35):
        run.tick(T0 + minute * MIN)
    run.feed(command("ack", run.incident_id, T0 + 36 * MIN))
    run.tick(T0 + 60 * MIN)
    assert pages(run) == [(0, "1", "1"), (15, "2", "1"), (25, "2", "2"), (35, "2", "3")]
    assert run.incident.pages == {"0.0": 1, "0.1": 3}


def test_a_worker_down_across_repeats_pages_once_for_the_latest() -> None:
    run = Run(policy=load_policy(POLICY))
    run.feed(alert("SystemDown", severity="critical"))
    run.tick(T0 + 58 * MIN)  # due: 15, 25, 35, 45, 55 — one page, the 5th
    assert pages(run)[1:] == [(55, "2", "5")]


def test_steps_fire_once_across_a_state_round_trip() -> None:
    """A restart reloads state from its stored form: no step fires again, none is lost."""
    policy = load_policy(POLICY)
    run = Run(policy=policy)
    run.feed(alert("SystemDown", severity="critical"))
    run.tick(T0 + 16 * MIN)
    reloaded = KeyState.from_dict(run.state.to_dict())
    _, again, _ = tick(reloaded, T0 + 17 * MIN, policy)
    assert [str(e.kind) for e in again] == []
    _, later, _ = tick(reloaded, T0 + 26 * MIN, policy)
    assert [(str(e.kind), e.details.get("page")) for e in later] == [("escalated", "2")]


def test_reminders_come_on_their_cadence_while_open_acknowledged_or_not() -> None:
    run = Run(policy=load_policy(POLICY))
    run.feed(alert("SystemDown", severity="critical"))
    run.feed(command("ack", run.incident_id, T0 + MIN))
    for minute in (29, 30, 45, 61, 95):
        run.tick(T0 + minute * MIN)
    run.feed(resolved(alert("SystemDown", severity="critical"), T0 + 96 * MIN))
    run.tick(T0 + 200 * MIN)
    updates = [((e.at - T0) // MIN, e.details["update"]) for e in run.events if e.kind is EventKind.UPDATE_DUE]
    assert updates == [(30, "1"), (60, "2"), (90, "3")]


def test_a_severity_upgrade_starts_the_new_routes_steps() -> None:
    run = Run(policy=load_policy(POLICY))
    run.feed(alert("Slow", severity="info"))
    assert [e.details["notify"] for e in run.events if e.kind is EventKind.ESCALATED] == ["chat"]
    run.feed(command("severity", run.incident_id, T0 + 5 * MIN, severity="P0"))
    run.tick(T0 + 5 * MIN + SEC)
    assert [e.details["notify"] for e in run.events if e.kind is EventKind.ESCALATED] == ["chat", "oncall,chat"]


def test_the_next_page_is_the_keys_next_timer() -> None:
    from models.timers import next_due

    run = Run(policy=load_policy(POLICY))
    run.feed(alert("SystemDown", severity="critical"))
    assert next_due(run.state, run.policy) == T0 + 15 * MIN
    run.tick(T0 + 15 * MIN)
    assert next_due(run.state, run.policy) == T0 + 25 * MIN


def test_notified_commands_are_recorded_once() -> None:
    run = Run(policy=load_policy(POLICY))
    run.feed(alert("SystemDown", severity="critical"))
    notified = command("notified", run.incident_id, T0 + SEC, actor="tocsin-notify", text="n1", channel="oncall")
    run.feed(notified, command("notified", run.incident_id, T0 + 2 * SEC, actor="tocsin-notify", text="n1"))
    recorded = [e.details for e in run.events if e.kind is EventKind.NOTIFIED]
    assert recorded == [{"channel": "oncall", "notification": "n1", "of": ""}]


def _published(run: Run, kind: EventKind) -> dict:
    return next(e.to_dict() for e in run.events if e.kind is kind)


def test_plan_pages_and_announces_without_telling_anyone_twice() -> None:
    policy = load_policy(POLICY)
    run = Run(policy=policy)
    run.feed(alert("SystemDown", severity="critical"))
    run.feed(command("ack", run.incident_id, T0 + MIN))
    opened, page = _published(run, EventKind.OPENED), _published(run, EventKind.ESCALATED)
    assert [n.channel for n in plan(page, policy.notifications)] == ["oncall", "chat"]
    assert plan(opened, policy.notifications) == []  # both were paged at detection: the page says it
    acked = plan(_published(run, EventKind.ACKNOWLEDGED), policy.notifications)
    assert [(n.channel, n.subject) for n in acked] == [("oncall", "acknowledged"), ("chat", "acknowledged")]
    ids = {n.notification_id for n in [*plan(page, policy.notifications), *acked]}
    assert len(ids) == 4 and ids == {n.notification_id for n in [*plan(page, policy.notifications), *acked]}


def test_bodies_carry_the_id_the_incident_and_how_to_ack() -> None:
    policy = load_policy(POLICY)
    run = Run(policy=policy)
    run.feed(alert("SystemDown", severity="critical"))
    oncall, chat = plan(_published(run, EventKind.ESCALATED), policy.notifications)
    channels = policy.notifications.channels
    generic = body(oncall, channels["oncall"], policy.notifications.public_url)
    assert generic["notification_id"] == oncall.notification_id and generic["incident"]["severity"] == "P0"
    assert generic["links"]["ack"] == f"POST https://tocsin.example/v1/incidents/{run.incident_id}/ack"
    assert generic["event"]["kind"] == "escalated"
    slack = body(chat, channels["chat"], policy.notifications.public_url)
    assert list(slack) == ["text"] and "[P0] SystemDown on api: paged (step 1, page 1)" in slack["text"]
    sent = headers(oncall, channels["oncall"])
    assert sent["Idempotency-Key"] == oncall.notification_id and sent["Authorization"] == "Bearer x"


def test_a_template_overrides_the_text() -> None:
    policy = load_policy(POLICY.replace("type: slack,", 'type: slack, template: "{severity} {title} {ack}",'))
    run = Run(policy=policy)
    run.feed(alert("SystemDown", severity="critical"))
    _, chat = plan(_published(run, EventKind.ESCALATED), policy.notifications)
    text = body(chat, policy.notifications.channels["chat"], policy.notifications.public_url)["text"]
    assert text == f"P0 SystemDown on api POST https://tocsin.example/v1/incidents/{run.incident_id}/ack"


def test_retry_delays_double_up_to_the_cap_until_give_up() -> None:
    assert retry_delays(Delivery(first_s=0.5, cap_s=2, give_up_s=8)) == [0.5, 1, 2, 2, 2]
    assert retry_delays(Delivery(give_up_s=0)) == []


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("notifications: {channels: {a: {type: sms, url: 'http://a'}}}", "type: one of webhook, slack"),
        ("notifications: {channels: {a: {url: 'ftp://a'}}}", "an http(s) URL"),
        ("notifications: {routes: [{escalation: [{after: 0m, notify: [nobody]}]}]}", "unknown channel nobody"),
        ("notifications: {channels: {a: {url: 'http://a', template: '{nope}'}}}", "unknown field nope"),
        ("notifications: {channels: {a: {url: 'http://a'}}, routes: [{match: {team: x}}]}", "unknown field team"),
        ("notifications: {channels: {a: {url: 'http://a'}}, routes: [{on: [opened]}]}", "nobody to tell"),
        (
            "notifications: {channels: {a: {url: 'http://a'}}, routes: [{notify: a, on: [escalated]}]}",
            "unknown escalated",
        ),
    ],
)
def test_a_bad_notifications_section_is_refused_by_name(bad: str, says: str) -> None:
    with pytest.raises(PolicyError, match=None) as refused:
        load_policy(bad)
    assert says in str(refused.value)
