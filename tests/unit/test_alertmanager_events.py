"""Alertmanager's event recorder records (the documented protojson ``Event``) as signals."""

import orjson

from models.errors import Reason
from models.limits import DEFAULT_LIMITS
from models.parsers.alertmanager import parse_webhook
from models.parsers.alertmanager_events import parse_recorded_event, parse_recorded_events
from models.signal import SignalStatus
from models.timestamps import parse_ms
from tests.conftest import fixture_bytes

NOW = parse_ms("2026-11-30T10:30:00Z")


def test_created_fires_resolved_resolves_and_other_events_are_skipped() -> None:
    parsed = parse_recorded_events(fixture_bytes("alertmanager-event-recorder.jsonl"), DEFAULT_LIMITS, NOW)
    assert parsed.rejections == []
    created, resolved = parsed.signals
    assert (created.status, created.ends_at) == (SignalStatus.FIRING, 0), "the resolve timeout is not an end"
    assert (resolved.status, resolved.ends_at) == (SignalStatus.RESOLVED, parse_ms("2026-11-30T10:20:00Z"))
    assert created.fingerprint == resolved.fingerprint == "1c5d859e845f39a3"
    assert created.starts_at == parse_ms("2026-11-30T09:58:00Z") and created.service == "checkout"
    assert created.title == "checkout 5xx above 5%" and created.links["runbook"].startswith("https://runbooks.")


def test_the_same_alert_by_webhook_has_the_same_identity() -> None:
    first = orjson.loads(fixture_bytes("alertmanager-event-recorder.jsonl").splitlines()[1])
    recorded = parse_recorded_event(first, DEFAULT_LIMITS, NOW).signals[0]
    alert = first["data"]["alertCreated"]["alert"]
    labels = {pair["key"]: pair["value"] for pair in alert["labels"]["labels"]}
    webhook = {"version": "4", "alerts": [{"status": "firing", "labels": labels, "startsAt": alert["startsAt"]}]}
    assert parse_webhook(webhook, DEFAULT_LIMITS, NOW).signals[0].fingerprint == recorded.fingerprint


def test_a_fingerprint_that_is_not_the_labels_is_refused() -> None:
    first = orjson.loads(fixture_bytes("alertmanager-event-recorder.jsonl").splitlines()[1])
    first["data"]["alertCreated"]["alert"]["fingerprint"] = "12345"
    (rejection,) = parse_recorded_event(first, DEFAULT_LIMITS, NOW).rejections
    assert rejection.reason is Reason.INVALID_VALUE
    assert parse_recorded_events(b"{not json", DEFAULT_LIMITS, NOW).rejections[0].reason is Reason.INVALID_JSON
