"""Every input format: real samples accepted, bad input refused with a reason, fuzz never raises."""

import base64
import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.check import CheckResult, CheckStatus
from models.command import Action, Command
from models.errors import Reason
from models.limits import DEFAULT_LIMITS
from models.parsers import parse_alerts, parse_checks, parse_command, parse_reports
from models.report import UserReport
from models.signal import Signal, SignalAck, SignalStatus
from models.timestamps import parse_ms
from tests.conftest import fixture_bytes

NOW = parse_ms("2025-01-27T15:00:00Z")


def alerts(body: object) -> list:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_alerts(raw, DEFAULT_LIMITS, NOW).inputs


def rejection(parse, body: object) -> Reason:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    result = parse(raw, DEFAULT_LIMITS, NOW)
    assert not result.inputs, result.inputs
    return result.rejections[0].reason


# --- PagerDuty Events API v2 -------------------------------------------------------------


def test_pagerduty_docs_trigger_example() -> None:
    (signal,) = alerts(fixture_bytes("pagerduty-trigger.json"))
    assert isinstance(signal, Signal)
    assert (signal.source, signal.status, signal.severity) == ("pagerduty", SignalStatus.FIRING, "critical")
    assert signal.service == "mysql"  # no custom_details.service: component
    assert signal.starts_at == parse_ms("2015-07-17T08:42:58.315Z")
    assert signal.labels["load avg"] == "0.75" and signal.labels["free space"] == "1%"
    assert "routing_key" not in signal.labels and "samplekeyhere" not in signal.labels.values()


def test_pagerduty_service_from_custom_details_then_component_then_source() -> None:
    base = {
        "routing_key": "k",
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "host1", "severity": "error"},
    }
    assert alerts(base)[0].service == "host1"
    base["payload"]["component"] = "db"
    assert alerts(base)[0].service == "db"
    base["payload"]["custom_details"] = {"service": "billing"}
    assert alerts(base)[0].service == "billing"


def test_pagerduty_same_dedup_key_same_identity_across_actions() -> None:
    trigger = alerts(fixture_bytes("pagerduty-trigger.json"))[0]
    ack = alerts({"routing_key": "k", "event_action": "acknowledge", "dedup_key": "samplekeyhere"})[0]
    resolve = alerts({"routing_key": "k", "event_action": "resolve", "dedup_key": "samplekeyhere"})[0]
    assert isinstance(ack, SignalAck)
    assert trigger.fingerprint == ack.fingerprint == resolve.fingerprint
    assert (resolve.status, resolve.ends_at) == (SignalStatus.RESOLVED, NOW)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"event_action": "trigger", "payload": {}}, Reason.MISSING_FIELD),
        ({"routing_key": "k", "event_action": "explode"}, Reason.INVALID_VALUE),
        ({"routing_key": "k", "event_action": "resolve"}, Reason.MISSING_FIELD),
        (
            {
                "routing_key": "k",
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "x", "severity": "apocalyptic"},
            },
            Reason.INVALID_VALUE,
        ),
        ({"routing_key": "k", "event_action": "trigger", "payload": "nope"}, Reason.WRONG_TYPE),
    ],
)
def test_pagerduty_rejections(body: dict, reason: Reason) -> None:
    assert rejection(parse_alerts, body) is reason


# --- Prometheus / Alertmanager API v2 alerts ---------------------------------------------


def test_api_v2_alerts_status_from_ends_at() -> None:
    firing, done = alerts(
        [
            {
                "labels": {"alertname": "Up", "job": "api"},
                "startsAt": "2025-01-27T14:00:00Z",
                "endsAt": "2025-01-27T15:04:00Z",
            },
            {
                "labels": {"alertname": "Up", "job": "web"},
                "startsAt": "2025-01-27T14:00:00Z",
                "endsAt": "2025-01-27T14:30:00Z",
            },
        ]
    )
    assert (firing.status, firing.service) == (SignalStatus.FIRING, "api")
    assert done.status is SignalStatus.RESOLVED


# --- CloudEvents -------------------------------------------------------------------------


def test_cloudevents_structured_alertmanager() -> None:
    inner = alerts(fixture_bytes("alertmanager-0.25-firing.json"))
    wrapped = alerts(fixture_bytes("cloudevents-alertmanager.json"))
    assert wrapped == inner


def test_cloudevents_data_base64_and_generic_signal() -> None:
    data = {"service": "search", "title": "index stale", "severity": "warning"}
    event = {
        "specversion": "1.0",
        "id": "1",
        "source": "cron",
        "type": "com.example.tocsin.signal",
        "time": "2025-01-27T14:10:00Z",
        "data_base64": base64.b64encode(json.dumps(data).encode()).decode(),
    }
    (signal,) = alerts(event)
    assert (signal.service, signal.title, signal.starts_at) == (
        "search",
        "index stale",
        parse_ms("2025-01-27T14:10:00Z"),
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"specversion": "0.3", "id": "1", "source": "s", "type": "t", "data": {}}, Reason.UNSUPPORTED_VERSION),
        (
            {"specversion": "1.0", "id": "1", "source": "s", "type": "com.example.unknown", "data": {}},
            Reason.UNSUPPORTED_TYPE,
        ),
        ({"specversion": "1.0", "source": "s", "type": "x.tocsin.signal", "data": {}}, Reason.MISSING_FIELD),
        (
            {"specversion": "1.0", "id": "1", "source": "s", "type": "x.tocsin.signal", "data_base64": "!!"},
            Reason.INVALID_VALUE,
        ),
    ],
)
def test_cloudevents_rejections(body: dict, reason: Reason) -> None:
    assert rejection(parse_alerts, body) is reason


# --- generic signals ---------------------------------------------------------------------


def test_generic_signal_identity_prefers_dedup_key() -> None:
    a = alerts({"service": "s", "title": "one", "dedup_key": "k"})[0]
    b = alerts({"service": "s", "title": "two", "dedup_key": "k"})[0]
    c = alerts({"service": "s", "title": "one"})[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_generic_signal_configured_identity_fields() -> None:
    def fp(body: dict) -> str:
        return (
            parse_alerts(json.dumps(body).encode(), DEFAULT_LIMITS, NOW, {"generic": ("service", "check")})
            .inputs[0]
            .fingerprint
        )

    assert fp({"service": "s", "title": "a", "check": "c"}) == fp({"service": "s", "title": "b", "check": "c"})
    # a separator that cannot occur in text keeps ("ab", "c") apart from ("a", "bc")
    assert fp({"service": "ab", "title": "t", "check": "c"}) != fp({"service": "a", "title": "t", "check": "bc"})


# --- checks, reports, commands -----------------------------------------------------------


def test_check_results_single_list_and_wrapped() -> None:
    one = {
        "check": "http",
        "service": "api",
        "status": "fail",
        "observed_at": "2025-01-27T14:00:00Z",
        "probe": "blackbox-1",
        "region": "eu-west",
        "latency_ms": 1200,
        "message": "503",
    }
    for body in (one, [one, one], {"results": [one]}):
        result = parse_checks(json.dumps(body).encode(), DEFAULT_LIMITS, NOW)
        assert result.ok and all(isinstance(i, CheckResult) for i in result.inputs)
    parsed = parse_checks(json.dumps(one).encode(), DEFAULT_LIMITS, NOW).inputs[0]
    assert (parsed.status, parsed.vantage, parsed.latency_ms) == (CheckStatus.FAIL, "blackbox-1@eu-west", 1200.0)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"check": "c", "service": "s", "status": "maybe"}, Reason.INVALID_VALUE),
        ({"service": "s", "status": "pass"}, Reason.MISSING_FIELD),
        ({"check": "c", "service": "s", "status": "pass", "latency_ms": "fast"}, Reason.WRONG_TYPE),
        ({"check": "c", "service": "s", "status": "pass", "kind": "vibes"}, Reason.INVALID_VALUE),
        ({"check": "c", "service": "s", "status": "pass", "observed_at": "1999-01-01T00:00:00Z"}, Reason.BAD_TIMESTAMP),
    ],
)
def test_check_rejections(body: dict, reason: Reason) -> None:
    assert rejection(parse_checks, body) is reason


def test_user_report() -> None:
    body = {
        "service": "checkout",
        "reporter": "support:4411",
        "summary": "Payment page spins forever",
        "reported_at": "2025-01-27T14:07:00Z",
        "channel": "complaint",
    }
    (report,) = parse_reports(json.dumps(body).encode(), DEFAULT_LIMITS, NOW).inputs
    assert isinstance(report, UserReport) and report.channel == "complaint"
    assert rejection(parse_reports, {**body, "channel": "carrier-pigeon"}) is Reason.INVALID_VALUE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"action": "ack", "incident_id": "i", "actor": "ann"}, Action.ACK),
        (
            {"action": "assign", "incident_id": "i", "actor": "ann", "role": "technical_lead", "assignee": "bo"},
            Action.ASSIGN,
        ),
        ({"action": "severity", "incident_id": "i", "actor": "ann", "severity": "auto"}, Action.SEVERITY),
        ({"action": "close", "incident_id": "i", "actor": "ann", "postmortem_url": "https://wiki/pm"}, Action.CLOSE),
    ],
)
def test_commands(body: dict, expected: Action) -> None:
    (parsed,) = parse_command(json.dumps(body).encode(), DEFAULT_LIMITS, NOW).inputs
    assert isinstance(parsed, Command) and parsed.action is expected and parsed.at == NOW


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"action": "dance", "incident_id": "i", "actor": "a"}, Reason.INVALID_VALUE),
        ({"action": "ack", "incident_id": "i"}, Reason.MISSING_FIELD),
        (
            {"action": "assign", "incident_id": "i", "actor": "a", "role": "mascot", "assignee": "b"},
            Reason.INVALID_VALUE,
        ),
        ({"action": "severity", "incident_id": "i", "actor": "a", "severity": "P9"}, Reason.INVALID_VALUE),
        ({"action": "note", "incident_id": "i", "actor": "a"}, Reason.MISSING_FIELD),
    ],
)
def test_command_rejections(body: dict, reason: Reason) -> None:
    assert rejection(parse_command, body) is reason


# --- hostile input -----------------------------------------------------------------------


def test_nesting_depth_is_limited() -> None:
    deep: object = "x"
    for _ in range(40):
        deep = {"a": deep}
    assert rejection(parse_alerts, {"service": "s", "title": "t", "labels": deep}) is Reason.TOO_DEEP


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
keys = [
    "alerts",
    "labels",
    "annotations",
    "status",
    "startsAt",
    "endsAt",
    "event_action",
    "routing_key",
    "payload",
    "dedup_key",
    "specversion",
    "type",
    "id",
    "source",
    "data",
    "service",
    "title",
    "check",
    "observed_at",
    "reporter",
    "summary",
    "action",
    "incident_id",
    "actor",
    "severity",
    "version",
]
shaped = st.dictionaries(st.sampled_from(keys), json_values, max_size=8)
PARSERS = [parse_alerts, parse_checks, parse_reports, parse_command]


@settings(max_examples=400)
@given(st.one_of(st.binary(max_size=300), shaped.map(lambda d: json.dumps(d).encode())), st.sampled_from(PARSERS))
def test_fuzzed_input_never_raises(raw: bytes, parse) -> None:
    result = parse(raw, DEFAULT_LIMITS, NOW)
    assert result.inputs or result.rejections
    assert all(r.reason in set(Reason) for r in result.rejections)
    orjson.dumps([r.to_dict() for r in result.rejections])
