"""How changes reach incidents: remembered per key for ``changes.window``, noted on each
incident of the key that opens within that window after a change or is open when it comes.

Rules: a change is noted once per incident (its id is in the event's details); it is kept
for twice the window, as an incident's detection may lie up to a window in the past when it
opens (late signals); at most ``MAX_CHANGES`` per key, the newest kept.
"""

from models.change import Change, KnownChange
from models.context import Context
from models.incident import Incident
from models.lifecycle import EventKind
from models.state import Decision, KeyState, Outcome
from models.timestamps import format_ms

MAX_CHANGES = 50


def on_change(ctx: Context, change: Change) -> Decision:
    changes = ctx.state.changes
    if change.change_id in changes:
        return Decision(Outcome.DUPLICATE, "change already known")
    known = KnownChange(change.at, change.service, change.summary, change.source, next(iter(change.links.values()), ""))
    changes[change.change_id] = known
    if len(changes) > MAX_CHANGES:
        del changes[min(changes, key=lambda i: (changes[i].at, i))]
    ctx.touch_head()
    noted = [i for i in ctx.state.incidents.values() if i.status.is_open and _within(ctx, i, known)]
    for incident in noted:
        _note(ctx, incident, change.change_id, known)
    return Decision(Outcome.ACCEPTED, f"noted on {len(noted)} open incidents" if noted else "")


def note_changes(ctx: Context, incident: Incident) -> None:
    """Note on a newly opened incident the changes of the window before its detection."""
    for change_id, known in sorted(ctx.state.changes.items(), key=lambda item: (item[1].at, item[0])):
        if _within(ctx, incident, known):
            _note(ctx, incident, change_id, known)


def forget_changes(ctx: Context) -> None:
    changes = ctx.state.changes
    for change_id in [i for i, known in changes.items() if ctx.now >= known.at + 2 * ctx.policy.change_window_ms]:
        del changes[change_id]
        ctx.touch_head()


def change_times(state: KeyState, window_ms: int) -> list[int]:
    """When each remembered change is forgotten (a timer: the key's state changes then)."""
    return [known.at + 2 * window_ms for known in state.changes.values()]


def _within(ctx: Context, incident: Incident, known: KnownChange) -> bool:
    return known.at >= incident.detected_at - ctx.policy.change_window_ms


def _note(ctx: Context, incident: Incident, change_id: str, known: KnownChange) -> None:
    details = {"change": change_id, "service": known.service, "summary": known.summary}
    details["changed_at"] = format_ms(known.at)
    if known.source:
        details["source"] = known.source
    if known.link:
        details["link"] = known.link
    ctx.emit(incident, EventKind.CHANGE_NOTED, known.at, details=details)
