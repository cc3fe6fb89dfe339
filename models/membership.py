"""The only place an incident's members change, keeping its ``Tally`` in step.

Every change also marks the fingerprint in ``Context.touched``, which tells the stream
layer which per-signal records of a key's stored state to rewrite (see
``streams.state_store``): a batch rewrites what it changed, not the whole key.
"""

from models.context import HEAD, Context
from models.incident import Incident, Member, Tally
from models.signal import SignalKind


def _bump(counts: dict[str, int], value: str, sign: int) -> None:
    total = counts.get(value, 0) + sign
    if total:
        counts[value] = total
    else:
        counts.pop(value, None)


def _count(tally: Tally, member: Member, sign: int) -> None:
    report = member.kind == SignalKind.REPORT
    _bump(tally.services, member.service, sign)
    _bump(tally.impact, member.impact, sign)
    _bump(tally.performance, member.performance, sign)
    _bump(tally.scope, member.scope, sign)
    _bump(tally.workaround, member.workaround, sign)
    if not report:
        _bump(tally.source_severity, member.severity, sign)
    if member.firing:
        _bump(tally.failing, member.service, sign)
        tally.blocking_firing += 0 if report else sign
        tally.failing_checks += sign if member.kind == SignalKind.CHECK else 0
    tally.check_outages += sign if member.check_outage else 0
    tally.reports += sign if report else 0


def put_member(ctx: Context, incident: Incident, fp: str, member: Member) -> None:
    """Add ``member`` under ``fp``, replacing what was there."""
    old = incident.members.get(fp)
    if old is not None:
        _count(incident.tally, old, -1)
        member.order = old.order
    else:
        member.order, incident.joined = incident.joined, incident.joined + 1
    incident.members[fp] = member
    _count(incident.tally, member, +1)
    ctx.touched.update((fp, HEAD))


def drop_member(ctx: Context, incident: Incident, fp: str) -> None:
    member = incident.members.pop(fp, None)
    if member is not None:
        _count(incident.tally, member, -1)
    ctx.touched.update((fp, HEAD))


def end_member(ctx: Context, incident: Incident, fp: str, at: int) -> None:
    """The member stopped firing at ``at``."""
    member = incident.members[fp]
    _count(incident.tally, member, -1)
    member.firing, member.ends_at = False, at
    _count(incident.tally, member, +1)
    ctx.touched.update((fp, HEAD))


def recount(incident: Incident) -> Tally:
    """The tally from scratch: for tests, and for state stored before tallies existed."""
    tally = Tally()
    for member in incident.members.values():
        _count(tally, member, +1)
    return tally
