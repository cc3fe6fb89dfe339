"""One row per engine input and its outcome, published for the ``tocsin.signals`` table.

Rows travel in batches — one Kafka record carries up to 1,000 rows (``streams.row_records``)
— so an alert costs a row in ClickHouse, not a Kafka record of its own.

The record id covers what the row says of the input (kind, source, time, service, status,
title, fingerprint), its outcome, its arrival and its place in the record that carried it:
a replay of the same record collapses, two equal alerts in one request count twice, and an
alert that Alertmanager re-sends every repeat interval counts once per delivery — that is
the noise the ``signals`` table is there to show.
"""

import hashlib

from models.check import CheckResult
from models.command import Command
from models.parsers.result import Input
from models.report import UserReport
from models.signal import Signal, SignalAck
from models.state import Decision
from models.timestamps import format_ms


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
    raise TypeError(type(item).__name__)


def record(item: Input, decision: Decision, received_at: int, index: int = 0) -> dict:
    """The row of ``item``, the ``index``-th input of a record received at ``received_at``."""
    kind, source, at, service, status, title = _describe(item)
    outcome = str(decision.outcome)
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
    }
