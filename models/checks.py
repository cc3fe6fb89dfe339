"""Check tracking: probe results → a check signal that fires and resolves.

A probe (one probe in one region) fails after ``fail_after`` consecutive failures and
recovers after ``pass_after`` consecutive passes, judged on results sorted by their own
``observed_at``, so results arriving out of order give the same verdict. The check fires
when any probe fails and resolves when every probe has recovered. When every probe of a
check (at least two) fails at once, the failure is not local: that is an outage fact.
"""

from dataclasses import dataclass, field

from models.check import CheckResult, CheckStatus
from models.fingerprint import fingerprint
from models.signal import Signal, SignalKind, SignalStatus

HISTORY = 16
MIN_PROBES_FOR_OUTAGE = 2


@dataclass(slots=True)
class ProbeState:
    results: list[list] = field(default_factory=list)  # [[observed_at, status], …] sorted
    failing: bool = False


@dataclass(slots=True)
class CheckState:
    probes: dict[str, ProbeState] = field(default_factory=dict)
    firing: bool = False
    outage: bool = False
    started_at: int = 0


def check_fingerprint(result: CheckResult) -> str:
    return fingerprint({"check": result.check, "service": result.service, "kind": result.kind})


def _is_fail(status: str, warn_counts_as_fail: bool) -> bool:
    return status == CheckStatus.FAIL or (warn_counts_as_fail and status == CheckStatus.WARN)


def _verdict(probe: ProbeState, fail_after: int, pass_after: int, warn_fails: bool) -> bool:
    """Whether the probe is failing after its (sorted) results."""
    fails = [_is_fail(status, warn_fails) for _, status in probe.results]
    if len(fails) >= fail_after and all(fails[-fail_after:]):
        return True
    if len(fails) >= pass_after and not any(fails[-pass_after:]):
        return False
    return probe.failing


def is_known(state: CheckState, result: CheckResult) -> bool:
    """Whether this exact result was recorded already (a re-delivery)."""
    probe = state.probes.get(result.vantage)
    return probe is not None and [result.observed_at, str(result.status)] in probe.results


def observe(
    state: CheckState, result: CheckResult, fail_after: int, pass_after: int, warn_fails: bool
) -> Signal | None:
    """Record ``result``; return the check's signal when its firing or outage state changed."""
    probe = state.probes.setdefault(result.vantage, ProbeState())
    entry = [result.observed_at, str(result.status)]
    probe.results = sorted([*probe.results, entry])[-HISTORY:]
    probe.failing = _verdict(probe, fail_after, pass_after, warn_fails)
    firing = any(p.failing for p in state.probes.values())
    outage = len(state.probes) >= MIN_PROBES_FOR_OUTAGE and all(p.failing for p in state.probes.values())
    if firing == state.firing and outage == state.outage:
        return None
    if firing and not state.firing:
        state.started_at = result.observed_at
    state.firing, state.outage = firing, outage
    return _signal(state, result)


def _signal(state: CheckState, result: CheckResult) -> Signal:
    labels = {"service": result.service, "check": result.check, "kind": result.kind}
    if state.outage:
        labels["impact"] = "outage"
    return Signal(
        source="check",
        fingerprint=check_fingerprint(result),
        status=SignalStatus.FIRING if state.firing else SignalStatus.RESOLVED,
        starts_at=state.started_at,
        ends_at=0 if state.firing else result.observed_at,
        service=result.service,
        title=f"{result.kind} check {result.check} failing" + (" everywhere" if state.outage else ""),
        labels=labels,
        annotations={"message": result.message} if result.message else {},
        kind=SignalKind.CHECK,
    )
