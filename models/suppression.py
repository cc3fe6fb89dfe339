"""Suppression: silences, recurring maintenance windows and inhibition rules.

A suppressed signal is recorded with its reason and opens or joins no incident. A silence
(``models.silence``) mutes what arrives while it is active (the engine's ``now``, recorded
with each input, so a replay suppresses exactly what the live run did); a maintenance
window mutes signals that start within it. Inhibition works within a correlation group
(the state one partition owns): a firing source signal suppresses matching targets that
share the ``equal`` labels.
"""

from collections.abc import Iterable, Mapping

from models.correlation import dependents_of
from models.matchers import match_all
from models.policy import Inhibition, Maintenance, Policy
from models.signal import Signal

DAY_MS = 86_400_000
MINUTE_MS = 60_000
# 1970-01-01 was a Thursday: weekday index (Monday = 0) of epoch day 0.
EPOCH_WEEKDAY = 3


def _in_window(window: Maintenance, at: int) -> bool:
    day = (at // DAY_MS + EPOCH_WEEKDAY) % 7
    minute = (at % DAY_MS) // MINUTE_MS
    if window.start_minute <= window.end_minute:
        return day in window.days and window.start_minute <= minute < window.end_minute
    # wraps past midnight: the part after midnight belongs to the previous day's window
    previous = (day - 1) % 7
    return (day in window.days and minute >= window.start_minute) or (
        previous in window.days and minute < window.end_minute
    )


def suppression_reason(signal: Signal, policy: Policy, firing: Iterable[Mapping[str, str]], at: int) -> str:
    """Why ``signal``, arriving at ``at``, is suppressed ("silence ID: …", "maintenance: …",
    "inhibited: …"), or ""."""
    labels = {**signal.labels, "service": signal.service}
    for silence in policy.all_silences:
        if silence.mutes(labels, at):
            return silence.reason
    for window in policy.maintenance:
        if window.service == signal.service and _in_window(window, signal.starts_at):
            return f"maintenance: {window.service}"
    for rule in policy.inhibitions:
        if not match_all(rule.target, labels):
            continue
        for source in firing:
            if _inhibits(rule, source, labels, policy):
                return f"inhibited: by {source.get('alertname') or source.get('service', 'a firing signal')}"
    return ""


def _inhibits(rule: Inhibition, source: Mapping[str, str], labels: Mapping[str, str], policy: Policy) -> bool:
    if not match_all(rule.source, source) or any(source.get(n, "") != labels.get(n, "") for n in rule.equal):
        return False
    return not rule.dependents or labels["service"] in dependents_of(source.get("service", ""), policy.dependencies)
