"""``dedup.fields``: what makes two inputs one signal, for each source without an identity
of its own (generic signals, PagerDuty triggers without ``dedup_key``, user reports)."""

import orjson

from models.limits import Limits
from models.parsers import parse_alerts
from models.policy import load_policy
from tests.support.engine import T0, Run, report


def fingerprints(policy_yaml: str, *bodies: dict) -> set[str]:
    dedup = load_policy(policy_yaml).dedup_fields
    return {parse_alerts(orjson.dumps(b), Limits(), T0, dedup).inputs[0].fingerprint for b in bodies}


def trigger(summary: str, component: str) -> dict:
    payload = {"summary": summary, "source": "web-1", "severity": "error", "component": component}
    return {"routing_key": "r", "event_action": "trigger", "payload": payload}


def test_pagerduty_triggers_without_dedup_key_use_the_configured_fields() -> None:
    bodies = (trigger("disk 91% full", "db"), trigger("disk 92% full", "db"), trigger("disk 91% full", "web"))
    assert len(fingerprints("", *bodies)) == 3  # default: all of the content
    assert len(fingerprints("dedup: {fields: {pagerduty: [source, component]}}", *bodies)) == 2


def test_generic_signals_with_labels_use_the_configured_fields() -> None:
    bodies = [{"service": "s", "title": t, "labels": {"region": r}} for t, r in (("a", "eu"), ("b", "eu"), ("a", "us"))]
    assert len(fingerprints("", *bodies)) == 3
    assert len(fingerprints("dedup: {fields: {generic: [service, region]}}", *bodies)) == 2


def test_generic_signals_in_cloudevents_use_them_too() -> None:
    def event(title: str) -> dict:
        data = {"service": "s", "title": title, "check": "c"}
        return {"specversion": "1.0", "id": title, "source": "x", "type": "tocsin.signal", "data": data}

    assert len(fingerprints("dedup: {fields: {generic: [service, check]}}", event("a"), event("b"))) == 1


def test_user_reports_from_one_reporter_count_once_when_told() -> None:
    reports = [report(T0 + i * 60_000, reporter="alice") for i in range(5)]
    run = Run()
    run.feed(*reports)
    assert run.incident.severity == "P1"  # five reports
    once = Run(policy=load_policy("dedup: {fields: {report: [service, reporter]}}"))
    once.feed(*reports)
    assert once.incident.severity == "P2" and len(once.incident.members) == 1
