"""Alertmanager webhook parsing: real payloads accepted, bad ones refused with a reason."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import Reason
from models.limits import DEFAULT_LIMITS, Limits
from models.parsers import parse_alerts
from models.signal import SignalStatus
from tests.conftest import fixture_bytes

NOW = 1737990000000  # arrival time, 2025-01-27T15:00:00Z


def parse_webhook(body: bytes, limits: Limits = DEFAULT_LIMITS):
    return parse_alerts(body, limits, NOW)


def alert(**overrides: object) -> dict:
    base = {
        "status": "firing",
        "labels": {"alertname": "SystemDown", "service": "apex-api"},
        "annotations": {"summary": "API service is down"},
        "startsAt": "2025-01-27T14:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
    }
    return {**base, **overrides}


def payload(*alerts: dict, **envelope: object) -> bytes:
    # stdlib json: it also encodes integers beyond 64 bits, which senders may produce
    return json.dumps({"version": "4", "status": "firing", "alerts": list(alerts), **envelope}).encode()


def test_real_alertmanager_payload() -> None:
    result = parse_webhook(fixture_bytes("alertmanager-0.25-firing.json"))
    assert result.ok
    assert [s.fingerprint for s in result.signals] == ["8670c2e01fcba19d", "f0b9148f4e00b7e5"]
    first = result.signals[0]
    assert (first.service, first.title, first.status) == ("apex-api", "API service is down", SignalStatus.FIRING)
    assert first.ends_at == 0
    assert first.annotations["runbook_url"] == "https://runbooks.example.com/api-down"


def test_each_alert_keeps_its_own_status_not_the_groups() -> None:
    result = parse_webhook(fixture_bytes("alertmanager-0.25-partially-resolved.json"))
    statuses = {s.fingerprint: (s.status, s.ends_at) for s in result.signals}
    assert statuses["8670c2e01fcba19d"] == (SignalStatus.RESOLVED, 1737988200000)
    assert statuses["f0b9148f4e00b7e5"] == (SignalStatus.FIRING, 0)


def test_tolerates_unknown_and_newer_fields() -> None:
    body = payload(alert(extra={"x": 1}), notification_reason="new", routeLabels={"a": "b"}, truncatedAlerts=0)
    assert parse_webhook(body).ok


def test_fingerprint_computed_when_absent_and_checked_when_present() -> None:
    assert parse_webhook(payload(alert())).signals[0].fingerprint
    wrong = parse_webhook(payload(alert(fingerprint="0000000000000000")))
    assert wrong.rejections[0].reason is Reason.INVALID_VALUE


def test_empty_label_values_are_absent_labels() -> None:
    labels = {"alertname": "SystemDown", "service": "apex-api", "instance": ""}
    signal = parse_webhook(payload(alert(labels=labels))).signals[0]
    assert "instance" not in signal.labels


def test_bad_alert_rejected_alone_with_its_index() -> None:
    result = parse_webhook(payload(alert(), alert(startsAt="not a time")))
    assert len(result.signals) == 1
    assert [(r.reason, r.index) for r in result.rejections] == [(Reason.BAD_TIMESTAMP, 1)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", Reason.INVALID_UTF8),
        (b"{not json", Reason.INVALID_JSON),
        (b"[]", Reason.MISSING_FIELD),
        (b'"just a string"', Reason.NOT_AN_OBJECT),
        (b'{"version": "4", "alerts": []}', Reason.MISSING_FIELD),
        (b'{"version": "3", "alerts": []}', Reason.UNSUPPORTED_VERSION),
        (b'{"version": "4"}', Reason.MISSING_FIELD),
        (b'{"version": "4", "alerts": {}}', Reason.WRONG_TYPE),
        (payload(alert(labels={"a": 1})), Reason.WRONG_TYPE),
        (payload(alert(labels={})), Reason.MISSING_FIELD),
        (payload(alert(status="exploded")), Reason.INVALID_VALUE),
        (payload(alert(startsAt="1970-01-01T00:00:00Z")), Reason.BAD_TIMESTAMP),
        (payload(alert(labels={f"l{i}": "v" for i in range(65)})), Reason.TOO_MANY_LABELS),
        (payload(alert(labels={"alertname": "x" * 5000})), Reason.LABEL_TOO_LONG),
        (payload(*[alert()] * 11), Reason.TOO_MANY_ALERTS),
    ],
)
def test_rejections_carry_reasons(body: bytes, reason: Reason) -> None:
    result = parse_webhook(body, Limits(max_alerts=10))
    assert not result.signals
    assert result.rejections[0].reason is reason


def test_size_cap() -> None:
    result = parse_webhook(payload(alert()), Limits(max_payload_bytes=10))
    assert result.rejections[0].reason is Reason.TOO_LARGE


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_fuzzed_bytes_never_raise(raw: bytes) -> None:
    result = parse_webhook(raw)
    assert result.signals or result.rejections


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(["status", "labels", "annotations", "startsAt", "endsAt", "fingerprint"]), json_values
    )
)
def test_fuzzed_alerts_never_raise(fields: dict) -> None:
    result = parse_webhook(payload(fields))
    assert len(result.inputs) + len(result.rejections) == 1


def test_grafana_alerting_webhook_keeps_grafanas_identity() -> None:
    """Grafana-managed alerts (``"version": "1"``, its documented payload) are accepted as they are."""
    result = parse_alerts(fixture_bytes("grafana-webhook.json"), DEFAULT_LIMITS, 1_634_025_000_000)
    assert not result.rejections
    assert [(s.source, s.fingerprint, s.status, s.title) for s in result.signals] == [
        ("grafana", "c6eadffa33fcdf37", SignalStatus.FIRING, "This alert was triggered for zone us-1"),
        ("grafana", "bc97ff14869b13e3", SignalStatus.FIRING, "This alert was triggered for zone eu-1"),
    ]
    assert result.signals[0].generator_url == "https://play.grafana.org/alerting/1afz29v7z/edit"
    assert result.signals[0].starts_at == 1_634_025_063_157  # 09:51:03.157 at +02:00


def test_other_webhook_versions_are_still_refused() -> None:
    body = json.loads(fixture_bytes("grafana-webhook.json"))
    result = parse_alerts(json.dumps({**body, "version": "2"}).encode(), DEFAULT_LIMITS, 0)
    assert result.rejections[0].reason is Reason.UNSUPPORTED_VERSION


def general_parse(body: bytes):
    """What the general parser alone makes of ``body`` (the typed fast path switched off)."""
    from unittest import mock

    with mock.patch("models.parsers.alerts.parse_typed", return_value=None):
        return parse_webhook(body)


@pytest.mark.parametrize(
    "body",
    [
        fixture_bytes("alertmanager-0.25-firing.json"),
        fixture_bytes("alertmanager-0.25-partially-resolved.json"),
        payload(alert(), alert(labels={"alertname": "B", "service": "s", "empty": ""}, status="resolved")),
        payload(alert(generatorURL="https://prom/graph", annotations={"runbook_url": "https://rb", "summary": "x"})),
        json.dumps([{k: v for k, v in alert().items() if k != "status"}]).encode(),  # API v2 list
    ],
)
def test_typed_fast_path_reads_what_the_general_parser_reads(body: bytes) -> None:
    from models.parsers.typed_alerts import parse_typed

    fast = parse_typed(body, DEFAULT_LIMITS, NOW)
    assert fast is not None and fast.inputs
    assert (fast.inputs, fast.group_key) == ((slow := general_parse(body)).inputs, slow.group_key)


@pytest.mark.parametrize(
    "body",
    [
        payload(alert(extra={"x": 1})),  # a field Alertmanager does not send
        payload(alert(), routeLabels={"a": "b"}),
        payload(alert(labels={"alertname": 1})),  # wrong type
        payload(alert(status="maybe")),  # a bad alert: the general parser names it
        payload(alert(), version="1"),  # Grafana
        payload(alert(extra=json.loads("[" * 40 + "]" * 40))),  # deep: refused as too deep below
        b'{"version":"4","alerts":[\xff]}',
    ],
)
def test_typed_fast_path_leaves_anything_else_to_the_general_parser(body: bytes) -> None:
    from models.parsers.typed_alerts import parse_typed

    assert parse_typed(body, DEFAULT_LIMITS, NOW) is None
    assert parse_webhook(body) == general_parse(body)


def test_deep_unknown_field_is_still_refused_as_too_deep() -> None:
    result = parse_webhook(payload(alert(extra=json.loads("[" * 40 + "]" * 40))))
    assert [r.reason for r in result.rejections] == [Reason.TOO_DEEP] and not result.inputs
