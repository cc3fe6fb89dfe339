"""What a chaos run delivered, against what the same inputs give in one process.

- ``reference``: the pure engine over the inputs in their per-key order, through the same
  parser and routing as the ingest agents — the single-process run.
- ``verdict``: the lifecycle records read from ``tocsin.incidents`` compared with it:
  ``lost`` (expected event ids never published), ``duplicated`` (event ids published with
  different contents — an identical re-send is collapsed by ``event_id``, as consumers do),
  ``out_of_order`` (events whose ``seq`` is not above their incident's previous one, first
  copies in topic order), ``unexpected`` (ids the reference does not have) and ``differing``
  (same id, other content than the reference).
"""

from collections.abc import Iterable

import orjson

from models.command import Command
from models.engine import correlation_key, routing_key, step_in_place
from models.limits import DEFAULT_LIMITS
from models.policy import Policy
from models.state import KeyState
from streams.agents.ingest import PARSERS


def reference(records: Iterable[tuple[str, bytes, int]], policy: Policy) -> dict[str, dict]:
    """Lifecycle events by id from (kind, value, arrival ms) input records, in order."""
    states: dict[str, KeyState] = {}
    events: dict[str, dict] = {}
    for kind, value, now in records:
        for item in PARSERS[kind](value, DEFAULT_LIMITS, now, policy).inputs:
            token = routing_key(item, policy)
            key = "" if isinstance(item, Command) else correlation_key(item, policy)
            emitted, _ = step_in_place(states.setdefault(token, KeyState()), item, now, policy, key=key, touched=set())
            events.update((e.event_id, orjson.loads(orjson.dumps(e.to_dict()))) for e in emitted)
    return events


def out_of_order(published: list[bytes]) -> int:
    """First copies of events (in partition order) whose ``seq`` is not above their incident's last."""
    seen: set[str] = set()
    last_seq: dict[str, int] = {}
    late = 0
    for raw in published:
        event = orjson.loads(raw)
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        incident = event["incident_id"]
        late += event["seq"] <= last_seq.get(incident, 0)
        last_seq[incident] = max(event["seq"], last_seq.get(incident, 0))
    return late


def verdict(published: list[bytes], expected: dict[str, dict]) -> dict:
    """Compare the lifecycle topic's record values (in partition order) with ``expected``."""
    first: dict[str, dict] = {}
    copies: dict[str, set[bytes]] = {}
    for raw in published:
        event = orjson.loads(raw)
        copies.setdefault(event["event_id"], set()).add(orjson.dumps(event, option=orjson.OPT_SORT_KEYS))
        first.setdefault(event["event_id"], event)
    return {
        "events_expected": len(expected),
        "events_published": len(published),
        "lost": len(expected.keys() - first.keys()),
        "duplicated": sum(len(values) > 1 for values in copies.values()),
        "out_of_order": out_of_order(published),
        "unexpected": len(first.keys() - expected.keys()),
        "differing": sum(first[i] != expected[i] for i in first.keys() & expected.keys()),
    }
