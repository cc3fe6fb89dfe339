"""Links: what the parsers keep, what an incident gathers, the policy's runbook map."""

import orjson

from models.limits import Limits
from models.links import MAX_LINKS, links_of, merge_links, runbook_for
from models.parsers.alertmanager import parse_webhook
from models.parsers.pagerduty import parse_event
from models.policy import load_policy
from models.signal import Signal
from tests.conftest import fixture_bytes
from tests.support.engine import T0, Run, alert

LIMITS = Limits()


def test_only_http_links_are_kept_first_url_per_name_and_bounded() -> None:
    pairs = [
        ("source", "https://a"),
        ("source", "https://b"),
        ("x", "javascript:alert(1)"),
        ("y", 3),
        ("", "https://c"),
    ]
    assert links_of(pairs, {"runbook_url": "https://rb", "summary": "https://no"}) == {
        "source": "https://a",
        "runbook": "https://rb",
    }
    held = {f"n{i}": "https://x" for i in range(MAX_LINKS - 1)}
    assert merge_links(held, {"a": "https://a", "b": "https://b"}) and len(held) == MAX_LINKS and "b" not in held
    assert not merge_links(held, {"a": "https://other"}) and held["a"] == "https://a"


def test_grafana_and_pagerduty_links_are_kept() -> None:
    grafana = parse_webhook(orjson.loads(fixture_bytes("grafana-webhook.json")), LIMITS).inputs[0]
    assert grafana.links == {
        "source": "https://play.grafana.org/alerting/1afz29v7z/edit",
        "silence": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
        "runbook": "https://myrunbook.com/runbook/1234",
    }  # empty dashboardURL and panelURL are no links
    (pagerduty,) = parse_event(orjson.loads(fixture_bytes("pagerduty-trigger.json")), LIMITS, T0).inputs
    assert pagerduty.links == {
        "source": "https://monitoring.example.com",
        "Link text": "https://example.com/",
        "Example text": "https://example.com/",
    }


def test_an_incident_gathers_its_signals_links_and_the_policy_names_a_runbook() -> None:
    run = Run(policy=load_policy("runbook_base_url: https://wiki/runbooks/\n"))
    (opened,) = run.feed(alert("SystemDown", service="pay", starts=T0), now=T0)
    assert opened.runbook_url == "https://wiki/runbooks/api-down.md" and opened.links == {"runbook": opened.runbook_url}
    with_links = alert("Latency", service="pay", starts=T0 + 1000)
    with_links = Signal.from_dict({**with_links.to_dict(), "links": {"dashboard": "https://grafana/d/1"}})
    (added,) = run.feed(with_links, now=T0 + 1000)
    assert added.links == {"runbook": opened.runbook_url, "dashboard": "https://grafana/d/1"}
    own = Run(policy=load_policy("runbooks:\n  - {match: {service: pay}, url: https://pay/rb}\n"))
    (event,) = own.feed(alert("Anything", service="pay", starts=T0), now=T0)
    assert event.runbook_url == "https://pay/rb"


def test_one_policy_names_each_signal_its_own_runbook() -> None:
    """The runbook match is remembered by the values of the labels the runbooks read: signals
    that differ there get their own runbook, whatever else they carry, in any order."""
    policy = load_policy(
        "runbooks:\n"
        "  - {match: {service: pay, env: prod}, url: https://pay/prod}\n"
        "  - {match: {service: pay}, url: https://pay/any}\n"
    )
    cases = [
        (alert("A", service="pay", env="prod"), "https://pay/prod"),
        (alert("B", service="pay", env="dev"), "https://pay/any"),
        (alert("C", service="pay", env="prod", pod="x"), "https://pay/prod"),
        (alert("D", service="pay"), "https://pay/any"),
        (alert("E", service="web", env="prod"), ""),
    ]
    for signal, url in [*cases, *reversed(cases)]:
        assert runbook_for(signal, policy) == url, signal.labels
