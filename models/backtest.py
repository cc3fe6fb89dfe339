"""What two replays of the same inputs did differently: the report of ``tocsin backtest``.

Both runs saw the same inputs in the same order, so their decisions line up one to one:
an input's incident under the baseline and under the candidate tells which incidents a
policy change merges (one candidate incident holds inputs of several baseline incidents)
or splits (the other way round).
"""

from collections import Counter, defaultdict
from statistics import fmean

from models.lifecycle import EventKind, LifecycleEvent
from models.replay import Replay
from models.state import Outcome

MINUTE = 60_000


def latest(events: list[LifecycleEvent]) -> dict[str, LifecycleEvent]:
    """Each incident's last event: it carries the incident's state."""
    last: dict[str, LifecycleEvent] = {}
    for event in events:
        if event.incident_id not in last or event.seq > last[event.incident_id].seq:
            last[event.incident_id] = event
    return last


def summary(run: Replay) -> dict:
    """Incidents by severity, noise (signals per incident), flapping, suppressed, MTTA/MTTR."""
    incidents = latest(run.events).values()
    kinds = Counter(str(e.kind) for e in run.events)
    acked = [(i.acknowledged_at - i.detected_at) / MINUTE for i in incidents if i.acknowledged_at]
    resolved = [(i.resolved_at - i.detected_at) / MINUTE for i in incidents if i.resolved_at]
    return {
        "incidents": len(incidents),
        "by_severity": dict(sorted(Counter(i.severity for i in incidents).items())),
        "signals_per_incident": _mean([i.signal_count for i in incidents]),
        "events": len(run.events),
        "flapping": kinds[str(EventKind.FLAPPING_STARTED)],
        "suppressed": sum(d.outcome is Outcome.SUPPRESSED for d in run.decisions),
        "sla_breaches": kinds[str(EventKind.SLA_BREACHED)],
        "mtta_minutes": _mean(acked),
        "mttr_minutes": _mean(resolved),
    }


def differences(baseline: Replay, candidate: Replay, first: int = 10) -> dict:
    """Incidents only one run opened, merged, split, or of another severity; the first few
    that differ, described."""
    base, cand = latest(baseline.events), latest(candidate.events)
    into, out_of = defaultdict(set), defaultdict(set)
    for b, c in zip(baseline.decisions, candidate.decisions, strict=True):
        if b.incident_id and c.incident_id:
            into[c.incident_id].add(b.incident_id)
            out_of[b.incident_id].add(c.incident_id)
    merged = {c: sorted(bs) for c, bs in into.items() if len(bs) > 1}
    split = {b: sorted(cs) for b, cs in out_of.items() if len(cs) > 1}
    severity = {i: (base[i].severity, cand[i].severity) for i in base.keys() & cand.keys()}
    severity = {i: change for i, change in severity.items() if change[0] != change[1]}
    only_base, only_cand = sorted(base.keys() - cand.keys()), sorted(cand.keys() - base.keys())
    described = [
        *(
            {"incident": i, "change": "severity", "baseline": b, "candidate": c}
            for i, (b, c) in sorted(severity.items())
        ),
        *({"incident": c, "change": "merges", "baseline": bs} for c, bs in sorted(merged.items())),
        *({"incident": b, "change": "splits", "candidate": cs} for b, cs in sorted(split.items())),
        *({"incident": i, "change": "not opened", "title": base[i].title} for i in only_base),
        *({"incident": i, "change": "opened", "title": cand[i].title} for i in only_cand),
    ]
    return {
        "only_in_baseline": len(only_base),
        "only_in_candidate": len(only_cand),
        "merged": len(merged),
        "split": len(split),
        "severity_changed": len(severity),
        "first": described[:first],
    }


def against_recorded(run: Replay, recorded: set[str], opened_from: int) -> dict:
    """Does the replay publish exactly the recorded events? Compared over the incidents
    opened at or after ``opened_from`` (earlier ones began before the inputs replayed)."""
    opened = {e.incident_id for e in run.events if e.kind is EventKind.OPENED and e.at >= opened_from}
    replayed = {e.event_id for e in run.events if e.incident_id in opened}
    return {
        "identical_to_recorded": replayed == recorded,
        "recorded_events": len(recorded),
        "replayed_events": len(replayed),
        "only_recorded": len(recorded - replayed),
        "only_replayed": len(replayed - recorded),
    }


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None
