"""Builders for engine tests: signals, checks, reports, commands, and a runner."""

from dataclasses import dataclass, field

from models.check import CheckResult, CheckStatus
from models.command import Action, Command
from models.engine import step, tick
from models.lifecycle import LifecycleEvent
from models.policy import Policy, load_policy
from models.report import ReportChannel, UserReport
from models.signal import Signal, SignalStatus
from models.state import Decision, KeyState

T0 = 1737986400000  # 2025-01-27T14:00:00Z, the seed's post-mortem example
SEC, MIN, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000


def alert(
    name: str = "SystemDown",
    status: str = "firing",
    starts: int = T0,
    ends: int = 0,
    service: str = "api",
    **labels: str,
) -> Signal:
    from models.fingerprint import fingerprint

    all_labels = {"alertname": name, "service": service, **labels}
    return Signal(
        source="alertmanager",
        fingerprint=fingerprint(all_labels),
        status=SignalStatus(status),
        starts_at=starts,
        ends_at=ends,
        service=service,
        title=f"{name} on {service}",
        labels=all_labels,
        severity=labels.get("severity", ""),
    )


def resolved(signal: Signal, ends: int) -> Signal:
    from dataclasses import replace

    return replace(signal, status=SignalStatus.RESOLVED, ends_at=ends)


def check(status: str, at: int, *, region: str = "eu", service: str = "api", name: str = "http") -> CheckResult:
    return CheckResult(
        check=name, service=service, status=CheckStatus(status), observed_at=at, probe="p1", region=region
    )


def report(at: int, reporter: str = "alice", service: str = "api") -> UserReport:
    return UserReport(
        service=service, reporter=reporter, summary="checkout fails", reported_at=at, channel=ReportChannel.TICKET
    )


def command(action: str, incident_id: str, at: int, actor: str = "bob", **fields: str) -> Command:
    return Command(action=Action(action), incident_id=incident_id, actor=actor, at=at, **fields)


@dataclass
class Run:
    """Feeds inputs through the engine and keeps everything it emitted."""

    policy: Policy = field(default_factory=load_policy)
    state: KeyState = field(default_factory=KeyState)
    events: list[LifecycleEvent] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def feed(self, *items: object, now: int | None = None) -> list[LifecycleEvent]:
        new: list[LifecycleEvent] = []
        for item in items:
            arrival = now if now is not None else _time_of(item)
            self.state, events, decision = step(self.state, item, arrival, self.policy)
            self.decisions.append(decision)
            new += events
        self.events += new
        return new

    def tick(self, now: int) -> list[LifecycleEvent]:
        self.state, events, _ = tick(self.state, now, self.policy)
        self.events += events
        return events

    def kinds(self, events: list[LifecycleEvent] | None = None) -> list[str]:
        return [str(e.kind) for e in (self.events if events is None else events)]

    @property
    def incident(self):  # the latest incident
        return list(self.state.incidents.values())[-1]

    @property
    def incident_id(self) -> str:
        return self.incident.incident_id


def _time_of(item: object) -> int:
    for name in ("at", "observed_at", "reported_at"):
        if hasattr(item, name):
            return getattr(item, name)
    return T0
