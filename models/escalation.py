"""Escalation and status-update reminders: the incident's own timers, in event time.

Like SLA breaches, a page is a fact about time: step ``i`` of the incident's route is due
``after`` its detection, and again every ``repeat`` while nobody has acknowledged. Each is
emitted once (``escalated``), stamped with its deadline and recorded on the incident
(``Incident.pages``), so a restart, a rebalance or a replay neither loses nor repeats one.
A worker that was down across several repeats pages once, for the latest, not a burst.
Reminders (``update_due``) come every ``updates.every`` from detection while the incident
is open, acknowledged or not.
"""

from collections.abc import Callable

from models.context import Context
from models.incident import Incident, IncidentStatus
from models.lifecycle import EventKind
from models.notifications import MATCH_FIELDS, Route
from models.policy import Policy
from models.sla import breaches_due
from models.timestamps import format_ms


def route_of(incident: Incident, policy: Policy) -> tuple[int, Route] | None:
    """The incident's notification route (its index and itself), by what it is now."""
    if not policy.notifications.routes:
        return None
    return policy.notifications.route_for({name: getattr(incident, name) for name in MATCH_FIELDS})


def pages_due(incident: Incident, policy: Policy, now: int) -> list[tuple[int, str, int, tuple[str, ...]]]:
    """(deadline, step key, page number, channels) of each step with a page due by ``now``."""
    found = route_of(incident, policy) if incident.status is IncidentStatus.DETECTED else None
    if found is None:
        return []
    index, route = found
    due = []
    for i, step in enumerate(route.escalation):
        first = incident.detected_at + step.after_ms
        if now < first:
            break  # steps are in order of ``after``
        number = 1 + ((now - first) // step.repeat_ms if step.repeat_ms else 0)
        key = f"{index}.{i}"
        if number > incident.pages.get(key, 0):
            due.append((first + (number - 1) * step.repeat_ms, key, number, step.notify))
    return due


def update_due(incident: Incident, policy: Policy, now: int) -> tuple[int, int, tuple[str, ...]] | None:
    """(due time, reminder number, channels) of the status-update reminder due by ``now``."""
    found = route_of(incident, policy) if incident.status.is_open else None
    updates = found[1].updates if found else None
    if updates is None:
        return None
    number = (now - incident.detected_at) // updates.every_ms
    if number <= incident.updates:
        return None
    return incident.detected_at + number * updates.every_ms, number, updates.notify


def escalation_times(incident: Incident, policy: Policy) -> list[int]:
    """When the incident's next page and next reminder are due (for ``models.timers``)."""
    found = route_of(incident, policy) if incident.status.is_open else None
    if found is None:
        return []
    index, route = found
    times = []
    if incident.status is IncidentStatus.DETECTED:
        for i, step in enumerate(route.escalation):
            first, sent = incident.detected_at + step.after_ms, incident.pages.get(f"{index}.{i}", 0)
            if not sent or step.repeat_ms:
                times.append(first + sent * step.repeat_ms)
    if route.updates is not None:
        times.append(incident.detected_at + (incident.updates + 1) * route.updates.every_ms)
    return times


def emit_due(ctx: Context, incident: Incident, at: int) -> None:
    """Emit what came due by ``at`` — SLA breaches, pages, update reminders — in time order."""
    due: list[tuple[int, int, Callable[[], None]]] = []
    for kind, deadline in breaches_due(incident, ctx.policy, at):
        due.append((deadline, 0, lambda kind=kind, deadline=deadline: _breach(ctx, incident, kind, deadline)))
    for deadline, key, number, notify in pages_due(incident, ctx.policy, at):
        due.append((deadline, 1, lambda d=deadline, k=key, n=number, c=notify: _page(ctx, incident, d, k, n, c)))
    if update := update_due(incident, ctx.policy, at):
        due.append((update[0], 2, lambda: _remind(ctx, incident, *update)))
    for _, _, emit in sorted(due, key=lambda item: item[:2]):
        emit()


def _breach(ctx: Context, incident: Incident, kind: str, deadline: int) -> None:
    incident.breaches.append(kind)
    ctx.emit(incident, EventKind.SLA_BREACHED, deadline, details={"sla": kind, "deadline": format_ms(deadline)})


def _page(ctx: Context, incident: Incident, at: int, key: str, number: int, notify: tuple[str, ...]) -> None:
    incident.pages = {**incident.pages, key: number}
    step = str(int(key.split(".")[1]) + 1)
    details = {"step": step, "page": str(number), "notify": ",".join(notify), "route": key.split(".")[0]}
    ctx.emit(incident, EventKind.ESCALATED, at, details=details)


def _remind(ctx: Context, incident: Incident, at: int, number: int, notify: tuple[str, ...]) -> None:
    incident.updates = number
    ctx.emit(incident, EventKind.UPDATE_DUE, at, details={"update": str(number), "notify": ",".join(notify)})
