"""The incident engine: ``step(state, input, now, policy)`` and ``tick(state, now, policy)``.

Pure and replayable: no I/O, no clock (``now`` is passed in — the input's arrival time for
``step``, the timer's time for ``tick``), so the same inputs in the same order produce the
same incidents and the same lifecycle events, byte for byte. The input state is not
mutated; each call returns a new one.

Inputs: ``Signal`` (alerts), ``SignalAck`` (a source acknowledging), ``CheckResult`` (turned
into a check signal by ``models.checks``), ``UserReport`` (a report signal), ``Change`` (a
deploy or config change, noted on incidents: ``models.change_flow``) and ``Command``.
``routing_key`` tells the stream layer which key (and so which partition) owns an input.
"""

from copy import deepcopy
from typing import NamedTuple

from models.change import Change
from models.change_flow import on_change
from models.check import CheckResult
from models.checks import CheckState, check_fingerprint, is_known, observe
from models.command import Command
from models.command_flow import on_command, on_signal_ack
from models.context import Context
from models.correlation import grouping_key, key_for_service, key_token, service_of, token_of_incident
from models.fingerprint import fingerprint
from models.lifecycle import LifecycleEvent
from models.parsers.result import Input
from models.policy import Policy
from models.report import UserReport
from models.signal import Signal, SignalAck, SignalKind, SignalStatus
from models.signal_flow import on_signal, received_again
from models.silence import silence_id_of
from models.state import Decision, KeyState, Outcome
from models.timers import catch_up, note_new_timers, note_timer

#: Sources whose correlation key comes from labels (``correlation.key_labels``).
LABELLED_SOURCES = frozenset({"alertmanager", "grafana"})


class Step(NamedTuple):
    state: KeyState
    events: list[LifecycleEvent]
    decision: Decision


def correlation_key(item: Input, policy: Policy) -> str:
    """The correlation key that owns ``item`` (commands: see ``routing_key``)."""
    if isinstance(item, Signal):
        group_by = policy.group_by.get(item.source)
        if group_by:
            return grouping_key(item.labels, group_by)
        labelled = item.source in LABELLED_SOURCES
        service = service_of(item.labels, policy.key_labels) if labelled else item.service
        return key_for_service(service, policy.dependencies)
    if isinstance(item, Command):
        raise ValueError("commands are routed by incident id; use routing_key")
    return key_for_service(item.service, policy.dependencies)


def routing_key(item: Input, policy: Policy) -> str:
    """The partition key: the key token, which every incident id of that key starts with."""
    if isinstance(item, Command):
        return token_of_incident(item.incident_id)
    return key_token(correlation_key(item, policy))


def report_signal(report: UserReport, dedup_fields: tuple[str, ...] = ()) -> Signal:
    """A user report as a firing signal of its own (reports never resolve by themselves).

    Each report is its own signal, unless ``dedup.fields.report`` names what makes two
    reports the same (e.g. ``[service, reporter]``: one person filing again counts once).
    """
    labels = {"service": report.service, "channel": str(report.channel), "reporter": report.reporter}
    identity = {"report": report.report_id}
    if dedup_fields:
        named = {**labels, "summary": report.summary}
        identity = {name: named.get(name, "") for name in dedup_fields}
    return Signal(
        source="report",
        fingerprint=fingerprint(identity),
        status=SignalStatus.FIRING,
        starts_at=report.reported_at,
        ends_at=0,
        service=report.service,
        title=report.summary,
        labels=labels,
        kind=SignalKind.REPORT,
    )


def step(state: KeyState, item: Input, now: int, policy: Policy, key: str = "") -> Step:
    """Apply one input; ``key`` names the state's correlation key when the state is new.

    Returns a new state; the given one is not changed (see ``step_in_place``).
    """
    state = deepcopy(state)
    events, decision = step_in_place(state, item, now, policy, key)
    return Step(state, events, decision)


def step_in_place(
    state: KeyState, item: Input, now: int, policy: Policy, key: str = "", touched: set[str] | None = None
) -> tuple[list[LifecycleEvent], Decision]:
    """``step`` for a caller that owns ``state`` (a fresh copy) and lets it change.

    ``touched`` collects the fingerprints whose signal or membership changed; ``KeyState.due``
    is lowered to any timer the input started.
    """
    ctx = Context(state=state, policy=policy, now=now)
    if not state.key:
        state.key = key or (correlation_key(item, policy) if not isinstance(item, Command) else "")
        ctx.touch_head()
    decision = _dispatch(ctx, item)
    note_new_timers(ctx, ctx.touched, ctx.events, checks=isinstance(item, CheckResult))
    if touched is not None:
        touched |= ctx.touched
    return ctx.events, decision


def tick(state: KeyState, now: int, policy: Policy) -> Step:
    """Let time pass up to ``now``: staleness, flapping, SLA breaches, post-mortems, retention."""
    state = deepcopy(state)
    return Step(state, tick_in_place(state, now, policy), Decision(Outcome.ACCEPTED))


def tick_in_place(state: KeyState, now: int, policy: Policy, touched: set[str] | None = None) -> list[LifecycleEvent]:
    """``tick`` for a caller that owns ``state``; ``touched`` as for ``step_in_place``."""
    ctx = Context(state=state, policy=policy, now=now, touched=set() if touched is None else touched)
    catch_up(ctx)
    return ctx.events


def muted_by(state: KeyState, silence_id: str) -> bool:
    """Whether a firing signal of this key is muted by ``silence_id``."""
    return any(silence_id_of(s.suppressed) == silence_id for s in state.signals.values())


def recheck(state: KeyState, now: int, policy: Policy, touched: set[str] | None = None) -> list[LifecycleEvent]:
    """``tick_in_place`` after a silence changed: a silence ended early makes the key's timers
    due sooner than ``KeyState.due`` says, so they are computed again first."""
    state.due = 0
    return tick_in_place(state, now, policy, touched)


def _dispatch(ctx: Context, item: Input) -> Decision:
    if isinstance(item, Signal):
        return on_signal(ctx, item)
    if isinstance(item, Change):
        decision = on_change(ctx, item)
        note_timer(ctx, item.at + 2 * ctx.policy.change_window_ms)  # when it is forgotten
        return decision
    if isinstance(item, Command):
        return on_command(ctx, item)
    if isinstance(item, SignalAck):
        return on_signal_ack(ctx, item)
    if isinstance(item, UserReport):
        return on_signal(ctx, report_signal(item, ctx.policy.dedup_fields.get("report", ())))
    if isinstance(item, CheckResult):
        return _on_check(ctx, item)
    raise TypeError(f"not an engine input: {type(item).__name__}")


def _on_check(ctx: Context, result: CheckResult) -> Decision:
    check = ctx.state.checks.setdefault(result.check_id, CheckState())
    fp = check_fingerprint(result)
    if is_known(check, result):
        return Decision(Outcome.DUPLICATE, fingerprint=fp)
    policy = ctx.policy
    ctx.touch_head()  # the check's results live in the head record
    signal = observe(check, result, policy.check_fail_after, policy.check_pass_after, policy.warn_counts_as_fail)
    if signal is None:
        known = ctx.state.signals.get(fp)
        if known is None:
            return Decision(Outcome.ACCEPTED, fingerprint=fp)
        received_again(ctx, known, fp)  # a result that changes nothing still shows the check alive
        return Decision(Outcome.ACCEPTED, fingerprint=fp, incident_id=known.incident_id)
    return on_signal(ctx, signal)
