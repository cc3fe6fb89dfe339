"""One row per engine input and its outcome, published for the ``tocsin.signals`` table.

Rows travel in batches — one Kafka record carries up to 1,000 rows (``streams.row_records``)
— so an alert costs a row in ClickHouse, not a Kafka record of its own.

The record id covers what the row says of the input (kind, source, time, service, status,
title, fingerprint), its outcome, its arrival and its place in the record that carried it:
a replay of the same record collapses, two equal alerts in one request count twice, and an
alert that Alertmanager re-sends every repeat interval counts once per delivery — that is
the noise the ``signals`` table is there to show.

Each row also keeps the input whole (``payload``, as the engine read it), its key and its
place in ``tocsin.signals`` (partition, offset, position), so the history can be run
through the engine again.
"""

import hashlib
from functools import lru_cache
from typing import NamedTuple

import orjson

from models.change import Change
from models.check import CheckResult
from models.command import Command
from models.matchers import format_matchers
from models.parsers.result import Input
from models.report import UserReport
from models.signal import Signal, SignalAck
from models.silence import Silence
from models.state import Decision, Outcome
from models.timestamps import format_ms
from streams.codec import encode_item


class Where(NamedTuple):
    """Where the engine read an input: its key and its ``tocsin.signals`` record."""

    token: str
    key: str
    partition: int
    offset: int


def _describe(item: Input) -> tuple[str, str, int, str, str, str]:
    """(input, source, event time, service, status, title) of any engine input."""
    if isinstance(item, Signal):
        return "signal", item.source, item.at, item.service, str(item.status), item.title
    if isinstance(item, SignalAck):
        return "ack", item.source, item.at, item.service, "acknowledged", ""
    if isinstance(item, CheckResult):
        return "check", item.kind, item.observed_at, item.service, str(item.status), item.check
    if isinstance(item, UserReport):
        return "report", str(item.channel), item.reported_at, item.service, "firing", item.summary
    if isinstance(item, Command):
        return "command", item.actor, item.at, "", str(item.action), item.text
    if isinstance(item, Change):
        return "change", item.source, item.at, item.service, "", item.summary
    if isinstance(item, Silence):
        title = f"{format_matchers(item.matchers)} {item.comment}"
        return "silence", item.created_by, item.updated_at, "", str(item.state(item.updated_at)), title
    raise TypeError(type(item).__name__)


@lru_cache(maxsize=4096)
def _place(where: Where) -> dict:
    """``where`` as row columns, once per record and key (every input of a group shares it)."""
    return where._asdict()


def record(item: Input, decision: Decision, received_at: int, index: int = 0, where: Where | None = None) -> dict:
    """The row of ``item``, the ``index``-th input of a record received at ``received_at``;
    ``where`` the engine read it (kept with the input, whole, for a replay)."""
    kind, source, at, service, status, title = _describe(item)
    outcome = decision.outcome.value
    fields = (kind, source, str(at), service, status, title, decision.fingerprint, outcome, decision.reason)
    material = "\x1f".join((*fields, str(received_at), str(index))).encode()
    return {
        "signal_id": hashlib.sha256(material).hexdigest()[:32],
        "at": format_ms(at or received_at),
        "received_at": format_ms(received_at),
        "input": kind,
        "source": source,
        "service": service,
        "fingerprint": decision.fingerprint,
        "status": status,
        "outcome": outcome,
        "reason": decision.reason,
        "incident_id": decision.incident_id,
        "title": title[:1024],
        **_whole(item, decision),
        **(_place(where) if where else {}),
        "position": index,
    }


def _whole(item: Input, decision: Decision) -> dict:
    """The input whole, as ``payload``; an exact re-send of a signal (most of what
    Alertmanager sends) as the ``content`` hash of the earlier input it repeats, which a
    replay resolves from that input's payload — half the bytes of a row, not written again."""
    if decision.outcome is Outcome.DUPLICATE and isinstance(item, Signal):
        return {"payload": "", "content": decision.content or item.content_hash, "labels": item.labels}
    return {"payload": orjson.Fragment(encode_item(item))}


#: ``input`` of the rows that keep where a tick changed a key: a replay ticks there too.
TICK = "tick"


def tick_record(now: int, where: Where, events: int, position: int = 0) -> dict:
    """The row of a tick that changed ``where.token``'s state (``events``: how many it emitted).

    Timers run when a tick arrives, so a replay must tick where the live engine did to
    publish the same events; ticks that changed nothing need no row.
    """
    place = (str(where.partition), str(where.offset), *([str(position)] if position else []))
    material = "\x1f".join((TICK, where.token, str(now), *place))
    return {
        "signal_id": hashlib.sha256(material.encode()).hexdigest()[:32],
        "at": format_ms(now),
        "received_at": format_ms(now),
        "input": TICK,
        "outcome": "accepted",
        "reason": f"{events} events",
        "payload": "",
        **where._asdict(),
        "position": position,
    }
