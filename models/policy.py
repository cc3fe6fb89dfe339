"""Incident policy: rules, windows and targets as plain data, loaded from YAML.

The shipped default (``models/default_policy.py``) documents every key. A user file is merged over it key
by key, so a policy names only what it changes. Loading validates everything up front:
a typo in a severity or a duration fails at start-up, not at 3 a.m.
"""

import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import yaml

from models import policy_lint
from models.default_policy import DEFAULT_POLICY_YAML
from models.durations import parse_duration
from models.matchers import Matchers, parse_matchers
from models.notifications import Notifications, parse_notifications
from models.silence import Silence, policy_silence
from models.timestamps import parse_ms

SEVERITIES = ("P0", "P1", "P2", "P3")
#: What a CloudEvent's ``data`` may be (``models.parsers.cloudevents``).
CLOUDEVENT_FORMATS = ("alertmanager.webhook", "prometheus.alert", "pagerduty.event", "tocsin.signal", "tocsin.change")
RESOLVE_MODES = ("all", "first", "last", "manual")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PolicyError(ValueError):
    """The policy file is invalid; the message names the offending key."""


@dataclass(frozen=True)
class SeverityRule:
    id: str
    severity: str
    any: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class SlaTarget:
    response_ms: int
    resolution_ms: int


@dataclass(frozen=True)
class Maintenance:
    service: str
    days: frozenset[int]
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Inhibition:
    """A firing ``source`` signal mutes ``target`` signals with the same ``equal`` labels (and,
    with ``dependents``, only those of services depending on the source's), in any key."""

    source: Matchers
    target: Matchers
    equal: tuple[str, ...]
    dependents: bool = False


@dataclass(frozen=True)
class Runbook:
    """``url`` is the runbook of signals ``match`` matches (``models.links.runbook_for``)."""

    match: Matchers
    url: str


@dataclass(frozen=True)
class Policy:
    key_labels: tuple[str, ...]
    group_by: dict[str, tuple[str, ...]]
    dependencies: dict[str, tuple[str, ...]]
    reopen_window_ms: int
    max_age_ms: int
    quiet_ms: int
    open_after_signals: int
    open_after_within_ms: int
    dedup_fields: dict[str, tuple[str, ...]]
    repeat_after_ms: int
    check_fail_after: int
    check_pass_after: int
    warn_counts_as_fail: bool
    flap_changes: int
    flap_window_ms: int
    flap_quiet_ms: int
    auto_resolve: str
    stale_after_ms: dict[str, int]
    allow_downgrade: bool
    rules: tuple[SeverityRule, ...]
    sla: dict[str, SlaTarget]
    postmortem_severities: frozenset[str]
    postmortem_initial_ms: int
    postmortem_detailed_ms: int
    silences: tuple[Silence, ...] = ()  # the policy file's
    maintenance: tuple[Maintenance, ...] = ()
    inhibitions: tuple[Inhibition, ...] = ()
    retention_ms: int = 8 * 86_400_000
    runbooks: tuple[Runbook, ...] = ()
    pagerduty_routes: dict[str, dict[str, str]] = field(default_factory=dict)
    change_window_ms: int = 2 * 3_600_000  # changes.window: how long before an incident a change is shown
    cloudevent_types: tuple[tuple[str, str], ...] = ()  # (type pattern, format): models.parsers.cloudevents
    notifications: Notifications = field(
        default_factory=Notifications
    )  # models.notifications: channels, routes, escalation
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    #: Severity decisions by incident facts (``models.severity.classify_memo``): a pure
    #: function of the facts and ``rules``, so remembering them changes no outcome.
    classified: dict = field(default_factory=dict, init=False, compare=False, repr=False)
    #: Runbook URLs by the values of the labels ``runbooks`` name (``models.links.runbook_for``).
    runbook_memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)
    #: Silences made at run time (``POST /v1/silences``), by id: ``with_silences`` sets them.
    live_silences: dict[str, Silence] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def runbook_labels(self) -> tuple[str, ...]:
        """The label names the runbooks' matchers read (``models.links.runbook_for``)."""
        return tuple(sorted({m.name for runbook in self.runbooks for m in runbook.match}))

    @property
    def all_silences(self) -> list[Silence]:
        return [*self.silences, *self.live_silences.values()]

    def silence(self, silence_id: str) -> Silence | None:
        """A silence by id, from the file or made at run time."""
        found = self.live_silences.get(silence_id)
        return found or next((s for s in self.silences if s.silence_id == silence_id), None)

    def with_silences(self, live: dict[str, Silence]) -> "Policy":
        """This policy with ``live`` as its run-time silences (the severity memo is shared)."""
        policy = replace(self, live_silences=dict(live))
        object.__setattr__(policy, "classified", self.classified)
        object.__setattr__(policy, "runbook_memo", self.runbook_memo)
        return policy


def load_policy(text: str | None = None) -> Policy:
    """Build a ``Policy`` from YAML ``text`` merged over the shipped default.

    Refuses (``PolicyError``, one line per setting, with its line in ``text``) unknown keys
    and settings that would have no effect (``models.policy_lint``).
    """
    merged = yaml.safe_load(DEFAULT_POLICY_YAML)
    text = text or ""
    override = yaml.safe_load(text) or {} if text else {}
    if not isinstance(override, dict):
        raise PolicyError("policy must be a mapping")
    _refuse(text, list(policy_lint.unknown_keys(merged, override)))
    merged = _merge(merged, override)
    try:
        _refuse(text, policy_lint.lint(merged))
        return _build(merged)
    except PolicyError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        raise PolicyError(f"invalid policy: {exc}") from None


def _refuse(text: str, problems: list[tuple[policy_lint.Path, str]]) -> None:
    if not problems:
        return
    lines = []
    for path, reason in problems:
        line = policy_lint.line_of(text, path) if text else None
        where = f"line {line}: " if line else ""
        lines.append(f"{where}{policy_lint.dotted(path)}: {reason}")
    raise PolicyError("\n".join(lines))


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        both_maps = isinstance(value, dict) and isinstance(base.get(key), dict) and base.get(key)
        out[key] = _merge(base[key], value) if both_maps else value
    return out


def _build(p: dict) -> Policy:
    corr, sev, res = p["correlation"], p["severity"], p["resolution"]
    if res["auto"] not in RESOLVE_MODES:
        raise PolicyError(f"resolution.auto must be one of {RESOLVE_MODES}")
    return Policy(
        key_labels=tuple(corr["key_labels"]),
        group_by={k: tuple(v) for k, v in (corr.get("group_by") or {}).items()},
        dependencies={k: tuple(v) for k, v in (corr.get("dependencies") or {}).items()},
        reopen_window_ms=parse_duration(corr["reopen_window"]),
        max_age_ms=parse_duration(corr["max_age"]),
        quiet_ms=parse_duration(corr["quiet"]),
        open_after_signals=max(1, int(corr["open_after"]["signals"])),
        open_after_within_ms=parse_duration(corr["open_after"]["within"]),
        dedup_fields={k: tuple(v) for k, v in (p["dedup"].get("fields") or {}).items()},
        repeat_after_ms=parse_duration(p["dedup"]["repeat_after"]),
        check_fail_after=max(1, int(p["checks"]["fail_after"])),
        check_pass_after=max(1, int(p["checks"]["pass_after"])),
        warn_counts_as_fail=bool(p["checks"]["warn_counts_as_fail"]),
        flap_changes=max(2, int(p["flapping"]["changes"])),
        flap_window_ms=parse_duration(p["flapping"]["window"]),
        flap_quiet_ms=parse_duration(p["flapping"]["quiet"]),
        auto_resolve=res["auto"],
        stale_after_ms={k: parse_duration(v) for k, v in (res.get("stale_after") or {}).items()},
        allow_downgrade=bool(sev["allow_downgrade"]),
        rules=tuple(_rule(r) for r in sev["rules"]),
        sla=_sla(p["sla"]),
        postmortem_severities=frozenset(_severity(s) for s in p["postmortem"]["severities"]),
        postmortem_initial_ms=parse_duration(p["postmortem"]["initial"]),
        postmortem_detailed_ms=parse_duration(p["postmortem"]["detailed"]),
        silences=tuple(_silence(s) for s in p["suppression"].get("silences") or []),
        maintenance=tuple(_maintenance(m) for m in p["suppression"].get("maintenance") or []),
        inhibitions=tuple(_inhibition(i) for i in p["suppression"].get("inhibit") or []),
        retention_ms=parse_duration(p["retention"]["resolved"]),
        runbooks=tuple(_runbook(r, p.get("runbook_base_url") or "") for r in p.get("runbooks") or []),
        change_window_ms=parse_duration(p["changes"]["window"]),
        cloudevent_types=tuple(_cloudevent_type(t) for t in p["cloudevents"].get("types") or []),
        notifications=parse_notifications(p.get("notifications")),
        pagerduty_routes={
            str(key): {name: str(value) for name, value in (route or {}).items() if name in ("service", "team")}
            for key, route in (p["pagerduty"].get("routing_keys") or {}).items()
        },
        raw=p,
    )


def _severity(value: object) -> str:
    if value not in SEVERITIES:
        raise PolicyError(f"severity must be one of {SEVERITIES}, not {value!r}")
    return str(value)


def _rule(data: dict) -> SeverityRule:
    conditions = data.get("any") or [{}]
    if not all(isinstance(c, dict) for c in conditions):
        raise PolicyError(f"rule {data.get('id')!r}: `any` must be a list of mappings")
    return SeverityRule(id=str(data["id"]), severity=_severity(data["severity"]), any=tuple(conditions))


def _sla(data: dict) -> dict[str, SlaTarget]:
    return {
        _severity(sev): SlaTarget(parse_duration(t["response"]), parse_duration(t["resolution"]))
        for sev, t in data.items()
    }


def _runbook(data: dict, base: str) -> Runbook:
    url = str(data["url"])
    if not url.startswith(("https://", "http://", "/")):
        url = base + url
    return Runbook(match=parse_matchers(data["match"]), url=url)


def _silence(data: dict) -> Silence:
    return policy_silence(
        parse_matchers(data["matchers"]),
        parse_ms(data["starts_at"]),
        parse_ms(data["ends_at"]),
        str(data.get("comment", "")),
    )


def _minute(text: str) -> int:
    hours, minutes = str(text).split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60:
        raise PolicyError(f"time of day out of range: {text!r}")
    return value


def _maintenance(data: dict) -> Maintenance:
    days = data.get("days") or list(WEEKDAYS)
    unknown = [d for d in days if str(d).lower()[:3] not in WEEKDAYS]
    if unknown:
        raise PolicyError(f"maintenance days must be weekday names, not {unknown}")
    return Maintenance(
        service=str(data["service"]),
        days=frozenset(WEEKDAYS.index(str(d).lower()[:3]) for d in days),
        start_minute=_minute(data["start"]),
        end_minute=_minute(data["end"]),
    )


def _inhibition(data: dict) -> Inhibition:
    return Inhibition(
        source=parse_matchers(data["source"]),
        target=parse_matchers(data["target"]),
        equal=tuple(data.get("equal") or ()),
        dependents=bool(data.get("dependents", False)),
    )


def _cloudevent_type(data: dict) -> tuple[str, str]:
    fmt = str(data["format"])
    if fmt not in CLOUDEVENT_FORMATS:
        raise PolicyError(f"cloudevents.types: format {fmt!r} is not one of {', '.join(CLOUDEVENT_FORMATS)}")
    return str(data["type"]), fmt
