"""Change events: remembered by their key, noted on the incidents that open within the
window after them or are open when they come; parsed from tocsin's and PagerDuty's formats."""

import orjson

from models.change import Change
from models.engine import correlation_key
from models.errors import Reason
from models.limits import DEFAULT_LIMITS
from models.parsers.changes import parse_changes
from models.policy import load_policy
from models.state import Outcome
from models.timers import next_due
from models.timestamps import format_ms
from tests.support.engine import HOUR, MIN, T0, Run, alert

DEPLOY = Change("api", "deploy api 2.4.1", T0 - 30 * MIN, "ci", "c1", {"pipeline": "https://ci.example/run/9"})


def noted(run: Run) -> list[dict]:
    return [e.details for e in run.events if str(e.kind) == "change_noted"]


def test_an_incident_opening_within_the_window_after_a_change_notes_it() -> None:
    run = Run()
    run.feed(DEPLOY, now=DEPLOY.at)
    assert run.events == [] and run.decisions[0].outcome is Outcome.ACCEPTED, "a change opens nothing"
    run.feed(alert("HighErrorRate"))
    assert run.kinds() == ["opened", "change_noted"]
    change = run.events[1]
    assert change.at == DEPLOY.at and change.incident_id == run.incident_id
    assert change.details == {
        "change": "c1",
        "service": "api",
        "summary": "deploy api 2.4.1",
        "changed_at": format_ms(DEPLOY.at),
        "source": "ci",
        "link": "https://ci.example/run/9",
    }


def test_a_change_older_than_the_window_is_not_noted() -> None:
    run = Run(policy=load_policy("changes: {window: 20m}"))
    run.feed(DEPLOY, now=DEPLOY.at)
    run.feed(alert("HighErrorRate"))
    assert noted(run) == []


def test_a_change_during_an_open_incident_is_noted_once() -> None:
    run = Run()
    run.feed(alert("HighErrorRate"))
    rollback = Change("api", "roll back api to 2.4.0", T0 + 10 * MIN, "ann", "c2")
    run.feed(rollback, now=rollback.at)
    run.feed(rollback, now=rollback.at + MIN)
    assert [d["summary"] for d in noted(run)] == ["roll back api to 2.4.0"]
    assert run.decisions[-1].outcome is Outcome.DUPLICATE


def test_a_change_of_a_dependency_reaches_the_incidents_of_its_dependents() -> None:
    policy = load_policy("correlation: {dependencies: {checkout: [postgres]}}")
    migration = Change("postgres", "schema migration 42", T0 - 5 * MIN, "flyway", "c3")
    down = alert("SystemDown", service="checkout")
    assert correlation_key(migration, policy) == correlation_key(down, policy)
    run = Run(policy=policy)
    run.feed(migration, now=migration.at)
    run.feed(down)
    assert [d["service"] for d in noted(run)] == ["postgres"]


def test_a_remembered_change_is_a_timer_and_is_forgotten_after_twice_the_window() -> None:
    run = Run()
    run.feed(DEPLOY, now=DEPLOY.at)
    assert next_due(run.state, run.policy) == DEPLOY.at + 4 * HOUR
    run.tick(DEPLOY.at + 4 * HOUR)
    assert run.state.changes == {} and next_due(run.state, run.policy) == 0


def test_tocsin_and_pagerduty_change_formats() -> None:
    own = {"service": "api", "summary": "deploy", "timestamp": "2025-01-27T13:30:00Z", "links": {"pr": "https://g/p/1"}}
    parsed = parse_changes(orjson.dumps({"changes": [own, {"service": "api"}]}), DEFAULT_LIMITS, T0)
    (change,) = parsed.inputs
    assert (change.at, change.links, len(change.change_id)) == (T0 - 30 * MIN, {"pr": "https://g/p/1"}, 16)
    assert [(r.reason, r.index) for r in parsed.rejections] == [(Reason.MISSING_FIELD, 1)]
    pagerduty = {
        "routing_key": "R1",
        "payload": {"summary": "Build 12 deployed", "source": "ci-runner", "custom_details": {"build": 12}},
        "links": [{"href": "https://ci/12", "text": "Build 12"}],
    }
    routes = {"R1": {"service": "checkout"}}
    (mapped,) = parse_changes(orjson.dumps(pagerduty), DEFAULT_LIMITS, T0, routes).inputs
    assert (mapped.service, mapped.source, mapped.at, mapped.links) == (
        "checkout",
        "ci-runner",
        T0,
        {"Build 12": "https://ci/12"},
    )
    (unmapped,) = parse_changes(orjson.dumps(pagerduty), DEFAULT_LIMITS, T0).inputs
    assert unmapped.service == "ci-runner", "an unmapped routing key: the payload's source"
