"""Policy settings that would be accepted and then do nothing — refused, with where and why.

A policy is merged over the default key by key, so a typo in a key, a fact no rule can
see, a value no criterion knows, or identity fields for a source that has its own identity
would otherwise load fine and silently change nothing. ``lint`` names each such setting by
its path; ``line_of`` finds the line of the user's file it came from.
"""

from collections.abc import Iterator
from typing import Any

import yaml

from models.durations import parse_duration
from models.facts import RULE_FACTS

Path = tuple[str | int, ...]

#: Every signal source, as named under ``resolution.stale_after`` and ``correlation.group_by``.
SOURCES = ("alertmanager", "grafana", "pagerduty", "generic", "check", "report")
#: What ``dedup.fields`` may name, per source; the others have an identity of their own.
DEDUP_FIELDS = {
    "generic": "any label or top-level string field",
    "pagerduty": "payload source, summary, component, group, class, severity or a custom_details key",
    "report": "service, reporter, channel, summary",
}
OWN_IDENTITY = {
    "alertmanager": "an Alertmanager alert is identified by its label set (its fingerprint)",
    "grafana": "a Grafana alert carries its own fingerprint",
    "check": "a check is identified by its service, check name and kind",
}
REPORT_FIELDS = ("service", "reporter", "channel", "summary")
MINIMUM = {
    ("correlation", "open_after", "signals"): 1,
    ("checks", "fail_after"): 1,
    ("checks", "pass_after"): 1,
    ("flapping", "changes"): 2,
}


def unknown_keys(base: Any, override: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Keys of ``override`` the default does not have (maps the default leaves open excepted)."""
    if not isinstance(base, dict) or not isinstance(override, dict) or not base:
        return
    for key, value in override.items():
        if key not in base:
            yield (*path, key), f"unknown key; known here: {', '.join(map(str, base))}"
        else:
            yield from unknown_keys(base[key], value, (*path, key))


def lint(policy: dict) -> list[tuple[Path, str]]:
    """Settings of the merged ``policy`` that would have no effect."""
    return [*_rules(policy["severity"]["rules"]), *_sources(policy), *_minimums(policy), *_staleness(policy)]


def _staleness(policy: dict) -> Iterator[tuple[Path, str]]:
    """A signal re-sent without pause refreshes its last-seen time once per ``repeat_after``:
    a shorter ``stale_after`` would resolve it between two refreshes."""
    repeat = parse_duration(policy["dedup"]["repeat_after"])
    for source, after in (policy["resolution"].get("stale_after") or {}).items():
        timeout = parse_duration(after)
        if timeout and timeout <= repeat:
            yield (
                ("resolution", "stale_after", source),
                f"{after} is not longer than dedup.repeat_after ({policy['dedup']['repeat_after']}): "
                "a signal still being sent would go stale between two refreshes",
            )


def _rules(rules: list) -> Iterator[tuple[Path, str]]:
    catch_all = ""
    for i, rule in enumerate(rules):
        path: Path = ("severity", "rules", i)
        if catch_all:
            yield path, f"rule {rule.get('id')!r} can never match: rule {catch_all!r} before it matches every incident"
        for j, condition in enumerate(rule.get("any") or [{}]):
            if isinstance(condition, dict) and not condition:
                catch_all = catch_all or str(rule.get("id"))
            for fact, expected in (condition or {}).items() if isinstance(condition, dict) else ():
                reason = _condition_problem(fact, expected)
                if reason:
                    yield (*path, "any", j, fact), reason


def _condition_problem(fact: str, expected: Any) -> str:
    if fact not in RULE_FACTS:
        return f"no such fact (a condition on it never holds); facts: {', '.join(RULE_FACTS)}"
    values = RULE_FACTS[fact]
    if values is None:
        numeric = isinstance(expected, int) and not isinstance(expected, bool)
        gte = isinstance(expected, dict) and set(expected) == {"gte"} and isinstance(expected["gte"], int)
        return "" if numeric or gte else f"{fact} is a count: give a number or {{gte: N}}"
    wanted = expected if isinstance(expected, list) else [expected]
    unknown = [v for v in wanted if v not in values]
    if unknown:
        return f"{fact} is never {', '.join(map(repr, unknown))}; its values: {', '.join(map(str, values))}"
    return ""


def _sources(policy: dict) -> Iterator[tuple[Path, str]]:
    for source, fields in (policy["dedup"].get("fields") or {}).items():
        path: Path = ("dedup", "fields", source)
        if source in OWN_IDENTITY:
            yield path, f"has no effect: {OWN_IDENTITY[source]}; to group its signals use correlation.group_by"
        elif source not in DEDUP_FIELDS:
            yield path, f"unknown source; identity fields apply to: {', '.join(DEDUP_FIELDS)}"
        elif not fields:
            yield path, "an empty list has no effect (remove it to keep the source's default identity)"
        elif source == "report" and (bad := [f for f in fields if f not in REPORT_FIELDS]):
            yield path, f"a user report has no field {', '.join(map(repr, bad))}; fields: {', '.join(REPORT_FIELDS)}"
    for source, labels in (policy["correlation"].get("group_by") or {}).items():
        path = ("correlation", "group_by", source)
        if source not in SOURCES:
            yield path, f"unknown source; sources: {', '.join(SOURCES)}"
        elif not labels:
            yield path, "an empty list has no effect (remove it to key by correlation.key_labels)"


def _minimums(policy: dict) -> Iterator[tuple[Path, str]]:
    for path, least in MINIMUM.items():
        value: Any = policy
        for key in path:
            value = value[key]
        if isinstance(value, int) and value < least:
            yield path, f"{value} acts as {least}: give {least} or more"


def line_of(text: str, path: Path) -> int | None:
    """The line (1-based) of ``path`` in the YAML ``text``, if the text sets it."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == key), None)
            if match is None:
                return line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def dotted(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
