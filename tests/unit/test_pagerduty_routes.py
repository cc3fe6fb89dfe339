"""PagerDuty routing keys mapped to services: an acknowledge or resolve, which rarely repeats
the trigger's payload, reaches the incident its trigger opened."""

import orjson

from models.engine import routing_key
from models.limits import Limits
from models.parsers.pagerduty import dedup_key_of, parse_events_api
from models.policy import load_policy
from tests.support.engine import T0, Run

POLICY = load_policy("pagerduty:\n  routing_keys:\n    R1: {service: checkout, team: payments}\n")


def event(action: str, routing: str = "R1", **fields: object) -> bytes:
    return orjson.dumps({"routing_key": routing, "event_action": action, "dedup_key": "disk-1", **fields})


def parse(raw: bytes, policy=POLICY):
    return parse_events_api(raw, Limits(), T0, (), policy.pagerduty_routes)


def test_a_mapped_key_names_the_service_and_team_and_its_resolve_closes_the_incident() -> None:
    payload = {"summary": "disk full", "source": "db-7", "severity": "critical"}
    (trigger,) = parse(event("trigger", payload=payload)).inputs
    (resolve,) = parse(event("resolve")).inputs
    assert (trigger.service, trigger.labels["team"]) == ("checkout", "payments")
    assert routing_key(resolve, POLICY) == routing_key(trigger, POLICY)
    run = Run(policy=POLICY)
    run.feed(trigger, now=T0)
    run.feed(resolve, now=T0 + 60_000)
    assert run.kinds()[0] == "opened" and run.kinds()[-1] == "resolved"
    assert dedup_key_of(trigger, {}) == "disk-1"


def test_an_unmapped_key_takes_the_service_from_the_event() -> None:
    payload = {"summary": "disk full", "source": "db-7", "severity": "critical", "component": "mysql"}
    (trigger,) = parse(event("trigger", routing="other", payload=payload)).inputs
    assert trigger.service == "mysql" and "team" not in trigger.labels


def test_only_pagerduty_events_are_taken_on_its_path() -> None:
    parsed = parse(orjson.dumps({"alerts": []}))
    assert not parsed.inputs and parsed.rejections
