"""What a stalled partition looks like from inside: logged by the stall guard when it acts.

A stall is faust-streaming's bookkeeping disagreeing with itself; which part disagrees
decides the fix. The snapshot covers Faust's partition sets and offsets, aiokafka's fetch
position and pause flag, the agents' queues and where every asyncio task is waiting.
Everything is read defensively: this runs on a worker that is already in trouble.
"""

import asyncio
from typing import Any

import faust

from streams.metrics import by_label
from streams.transport import REFETCHES


def partition_state(app: faust.App, tp: Any) -> dict[str, Any]:
    consumer = app.consumer
    trace = getattr(consumer, "trace", {"fetched": {}, "yielded": {}})
    state: dict[str, Any] = {
        "assigned": tp in consumer.assignment(),
        "active": tp in (consumer._active_partitions or set()),
        "paused": tp in consumer._paused_partitions,
        "buffered": tp in consumer._buffered_partitions,
        "read_offset": consumer._read_offset.get(tp),
        "committed": consumer._committed_offset.get(tp),
        "acked": len(consumer._acked.get(tp) or ()),
        "gaps": len(consumer._gap.get(tp) or ()),
        "unacked": sum(1 for m in list(consumer._unacked_messages) if m.tp == tp),
        "flow_active": consumer.flow_active,
        "fetched_last": trace["fetched"].get(tp),
        "yielded_last": trace["yielded"].get(tp),
        "refetches": by_label(REFETCHES),
        "generation": app.consumer_generation_id,
        "rebalancing": app.rebalancing,
    }
    try:
        aio = consumer._thread._ensure_consumer()
        assignment = aio._subscription.subscription.assignment
        position = assignment.state_value(tp)
        state["fetch_paused"] = position.paused
        state["fetch_position"] = position.position if position.has_valid_position else None
        state["highwater"] = aio.highwater(tp)
    except Exception as exc:  # diagnostics must not fail the guard
        state["fetch_state_error"] = repr(exc)
    return state


def agent_queues(app: faust.App) -> dict[str, list[int]]:
    queues: dict[str, list[int]] = {}
    for name, agent in app.agents.items():
        sizes = []
        for actor in getattr(agent, "_actors", ()):
            try:
                sizes.append(actor.stream.channel.queue.qsize())
            except Exception:
                sizes.append(-1)
        queues[name.rsplit(".", 1)[-1]] = sizes
    return queues


def await_chain(coro: Any) -> list[str]:
    """file:line of each coroutine in the chain a task awaits through, outermost first."""
    frames = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            frames.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
    return frames


def waiting_tasks(limit: int = 80) -> list[str]:
    """Each task's await chain, innermost frames last: where it waits."""
    lines = []
    for task in list(asyncio.all_tasks())[:limit]:
        chain = await_chain(task.get_coro())
        lines.append(" > ".join(chain[-4:]) or task.get_name())
    return sorted(lines)


def snapshot(app: faust.App, tp: Any) -> dict[str, Any]:
    return {"partition": partition_state(app, tp), "queues": agent_queues(app), "tasks": waiting_tasks()}
