"""A command's HTTP answer: the engine's decision, awaited for a bounded time.

200 with the resulting events (also for a repeat of a command already applied), 404 for an
incident the engine does not know, 409 for an action its state does not allow, 202 when
the decision did not come within ``COMMAND_WAIT_SECONDS`` (the engine runs in another
process, or is behind). See ``streams.outcomes`` for how the decision arrives.
"""

import asyncio

from faust.web import Response, View

from models.command import Command
from models.parsers import Parsed
from models.state import Outcome
from streams.outcomes import CommandOutcome, Outcomes

COMMAND_WAIT_SECONDS = 5.0


def expect_outcome(outcomes: Outcomes | None, parsed: Parsed) -> tuple[str, asyncio.Future] | None:
    """For a command: wait for the engine's decision, registered before it is published."""
    if outcomes is None or len(parsed.inputs) != 1 or not isinstance(parsed.inputs[0], Command):
        return None
    command_id = parsed.inputs[0].command_id
    return command_id, outcomes.expect(command_id)


def forget_outcome(outcomes: Outcomes | None, awaited: tuple[str, asyncio.Future] | None) -> None:
    if awaited is not None and outcomes is not None:
        outcomes.forget(*awaited)


#: HTTP status for each decision on a command: done (or already done), unknown, not applicable.
COMMAND_STATUS = {Outcome.ACCEPTED: 200, Outcome.DUPLICATE: 200, Outcome.REJECTED: 404, Outcome.IGNORED: 409}


async def command_answer(
    view: View, outcomes: Outcomes | None, awaited: tuple[str, asyncio.Future], trace_id: str
) -> Response:
    """200 with the resulting events, 404 unknown incident, 409 not applicable; 202 if undecided in time."""
    command_id, future = awaited
    try:
        outcome: CommandOutcome = await asyncio.wait_for(future, COMMAND_WAIT_SECONDS)
    except TimeoutError:
        forget_outcome(outcomes, awaited)
        return view.json({"outcome": "pending", "command_id": command_id, "trace_id": trace_id}, status=202)
    decision = outcome.decision
    body = {
        "outcome": str(decision.outcome),
        "reason": decision.reason,
        "incident_id": decision.incident_id,
        "command_id": command_id,
        "events": [event.to_dict() for event in outcome.events],
        "trace_id": trace_id,
    }
    return view.json(body, status=COMMAND_STATUS.get(decision.outcome, 200))
