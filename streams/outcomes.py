"""Command outcomes for the HTTP caller: the engine's decision, awaited for a bounded time.

``POST /v1/incidents/{id}/{action}`` registers the command's id before publishing it; the
correlate agent settles it once the batch holding the command is published. Both run in
the same process when the API and the engine do (``tocsin up``, a worker with both roles);
otherwise the wait times out and the answer is 202 (accepted, outcome unknown).
"""

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from models.lifecycle import LifecycleEvent
from models.state import Decision


@dataclass(frozen=True)
class CommandOutcome:
    decision: Decision
    events: list[LifecycleEvent]


class Outcomes:
    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future]] = defaultdict(list)

    def expect(self, command_id: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiting[command_id].append(future)
        return future

    def forget(self, command_id: str, future: asyncio.Future) -> None:
        waiting = self._waiting.get(command_id, [])
        if future in waiting:
            waiting.remove(future)
        if not waiting:
            self._waiting.pop(command_id, None)

    def settle(self, command_id: str, outcome: CommandOutcome) -> None:
        for future in self._waiting.pop(command_id, []):
            if not future.done():
                future.set_result(outcome)

    @property
    def pending(self) -> bool:
        return bool(self._waiting)
