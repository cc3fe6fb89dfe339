"""``tocsin backtest``: run the stored inputs of a window through the engine under the policy
in force and under a candidate, and report what the candidate would have changed.

Everything runs in this process from ClickHouse's ``signals`` log (``sinks.clickhouse.
history``), no Kafka: the replay is the pure engine (``models.replay``), so the baseline
run must publish exactly the events that were recorded — reported as
``identical_to_recorded`` — which is what makes the candidate's differences trustworthy.
"""

import time
from collections.abc import Iterable, Iterator

from clickhouse_connect.driver.client import Client

from models.backtest import against_recorded, differences, summary
from models.correlation import token_of_incident
from models.durations import parse_duration
from models.parsers.result import Input
from models.policy import Policy
from models.replay import Recorded, replay
from models.signal import Signal
from models.signal_flow import MAX_SEEN
from sinks.clickhouse.history import recorded_events, stored_inputs, stored_silences
from streams import collector
from streams.codec import decode_item
from streams.signal_log import TICK

ROWS = (
    ("incidents", "incidents"),
    ("signals per incident", "signals_per_incident"),
    ("lifecycle events", "events"),
    ("flapping", "flapping"),
    ("suppressed inputs", "suppressed"),
    ("SLA breaches", "sla_breaches"),
    ("MTTA (min)", "mtta_minutes"),
    ("MTTR (min)", "mttr_minutes"),
)


def backtest(
    client: Client,
    database: str,
    baseline: Policy,
    candidate: Policy | None,
    since: str = "7d",
    service: str = "",
    first: int = 10,
) -> dict:
    """The report ``tocsin backtest --json`` prints."""
    collector.tune()  # a replay allocates as the engine does
    since_ms = int(time.time() * 1000) - parse_duration(since)
    read = Read()
    recorded = recorded_events(client, database, since_ms)
    until = max((at for _, _, at in recorded), default=since_ms)
    silences = [decode_item(payload) for payload in stored_silences(client, database)]
    base = replay(read.inputs(stored_inputs(client, database, since_ms, service)), baseline, until, silences)
    if service:
        recorded = [e for e in recorded if token_of_incident(e[1]) in read.tokens]
    report = {
        "window": {"since": since, "service": service, **read.counts()},
        **against_recorded(base, {event_id for event_id, _, _ in recorded}, since_ms),
        "baseline": summary(base),
    }
    if candidate is not None:
        rows = stored_inputs(client, database, since_ms, service)
        other = replay(Read().inputs(rows), candidate, until, silences)
        report["candidate"] = summary(other)
        report["differences"] = differences(base, other, first)
    return report


class Read:
    """Stored rows as replay inputs, counted as they stream past. An exact re-send is stored
    as the content hash of the signal it repeats: it is that signal again."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.seen: dict[tuple[str, str], dict[str, Input]] = {}  # (token, fingerprint) → content → signal
        self.inputs_read = self.ticks = self.unreadable = 0

    def inputs(self, rows: Iterable[tuple[str, str, int, str, str, str, str]]) -> Iterator[Recorded]:
        for token, key, now, kind, fingerprint, content, payload in rows:
            self.tokens.add(token)
            if kind == TICK:
                self.ticks += 1
                yield Recorded(token, key, now, None)
                continue
            item = self._item(token, fingerprint, content, payload)
            if item is None:
                self.unreadable += 1
                continue
            self.inputs_read += 1
            yield Recorded(token, key, now, item)

    def _item(self, token: str, fingerprint: str, content: str, payload: str) -> Input | None:
        if not payload:  # a re-send of a signal before the window is not known here
            return self.seen.get((token, fingerprint), {}).get(content)
        try:
            item = decode_item(payload)
        except (ValueError, KeyError):
            return None
        if isinstance(item, Signal):  # a re-send names one of the engine's last MAX_SEEN contents
            recent = self.seen.setdefault((token, item.fingerprint), {})
            recent.pop(item.content_hash, None)  # the newest last, as the engine's list
            recent[item.content_hash] = item
            if len(recent) > MAX_SEEN:
                del recent[next(iter(recent))]
        return item

    def counts(self) -> dict:
        return {"inputs": self.inputs_read, "ticks": self.ticks, "unreadable_inputs": self.unreadable}


def backtest_text(report: dict) -> str:
    """The report as an operator reads it: the two runs side by side, then what differs."""
    window = report["window"]
    lines = [
        f"{window['inputs']} inputs since {window['since']}"
        + (f", keys of {window['service']}" if window["service"] else ""),
        "baseline reproduces the recorded events: "
        + ("yes" if report["identical_to_recorded"] else "NO")
        + f" ({report['replayed_events']} replayed, {report['recorded_events']} recorded,"
        f" {report['only_recorded']} only recorded, {report['only_replayed']} only replayed)",
        "",
    ]
    runs = [report["baseline"]] + ([report["candidate"]] if "candidate" in report else [])
    table = [["", "baseline", *(["candidate"] if len(runs) > 1 else [])]]
    table += [[label, *(_cell(run[name]) for run in runs)] for label, name in ROWS]
    severities = sorted({s for run in runs for s in run["by_severity"]})
    table += [[f"  {s}", *(_cell(run["by_severity"].get(s, 0)) for run in runs)] for s in severities]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    if "differences" in report:
        lines += ["", _differences_text(report["differences"])]
    return "\n".join(lines)


def _differences_text(diff: dict) -> str:
    head = (
        f"merged {diff['merged']}, split {diff['split']}, severity changed {diff['severity_changed']}, "
        f"only in baseline {diff['only_in_baseline']}, only in candidate {diff['only_in_candidate']}"
    )
    return "\n".join([head, *(f"  {d['incident']}: {_change(d)}" for d in diff["first"])])


def _change(d: dict) -> str:
    if d["change"] == "severity":
        return f"severity {d['baseline']} -> {d['candidate']}"
    if d["change"] == "merges":
        return "holds what the baseline opened as " + ", ".join(d["baseline"])
    if d["change"] == "splits":
        return "split into " + ", ".join(d["candidate"])
    return f"{d['change']}: {d['title']}"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)
