"""``make bench``: what each hot-path stage costs per alert, in Python alone (no Kafka, no ClickHouse).

The ``bench_http`` workload (200k alerts, 10k fingerprints over 200 services, webhooks of
10/100/1,000 alerts) through the functions the worker runs, one stage at a time, best of
three: HTTP parse, routing and encoding into ``tocsin.signals`` records, decoding them, the
engine, the signal-log rows and their records, lifecycle events as published and as
ClickHouse rows. The sum is the floor of one worker's Python time per alert; ``bench_http``
shows what Kafka, Faust and aiohttp add. Prints one JSON line (microseconds per alert).
"""

import time
from collections.abc import Callable

import orjson

from models.engine import step_in_place
from models.limits import DEFAULT_LIMITS
from models.policy import load_policy
from models.state import KeyState
from sinks.clickhouse.writer import event_row
from streams import collector, signal_log
from streams.agents.ingest import PARSERS
from streams.codec import decode
from streams.routing import signal_records
from streams.row_records import row_records
from tests.bench.workload import as_webhook, webhook_batches

NOW = 1_795_780_000_000
PARTITIONS = 8


def best_of(runs: int, stage: Callable[[], object]) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        out = stage()
        best = min(best, time.perf_counter() - started)
    return best, out


def main() -> None:
    collector.tune()  # as the worker runs
    policy = load_policy()
    bodies = [as_webhook(b).encode() for b in webhook_batches(200_000, NOW - 60_000)]
    costs: dict[str, float] = {}

    def stage(name: str, run: Callable[[], object]) -> object:
        seconds, out = best_of(3, run)
        costs[name] = seconds
        return out

    parsed = stage("parse", lambda: [PARSERS["alerts"](b, DEFAULT_LIMITS, NOW, policy) for b in bodies])
    alerts = sum(len(p.inputs) for p in parsed)
    records = stage("route_encode", lambda: [signal_records(p.inputs, NOW, policy, PARTITIONS)[0] for p in parsed])
    messages = stage("decode", lambda: [decode(value) for r in records for _, value in r])

    def engine() -> tuple[list, list]:
        states: dict[str, KeyState] = {}
        events, applied = [], []
        for message in messages:
            for token, key, items, now, _ in message["groups"]:
                state = states.setdefault(token, KeyState())
                where = signal_log.Where(token, key, 0, 0)
                for index, item in enumerate(items):
                    emitted, decision = step_in_place(state, item, now, policy, key=key, touched=set())
                    events += emitted
                    applied.append((item, decision, now, index, where))
        return events, applied

    events, applied = stage("engine", engine)
    rows = stage("signal_log_rows", lambda: [signal_log.record(*a) for a in applied])
    stage("signal_log_records", lambda: list(row_records(rows)))

    def publish() -> list:
        published = [e.to_dict() for e in events]
        return [orjson.dumps(e) for e in published] + list(row_records([event_row(e) for e in published]))

    stage("lifecycle_events", publish)
    per_alert = {name: round(1e6 * seconds / alerts, 2) for name, seconds in costs.items()}
    per_alert["total"] = round(sum(per_alert.values()), 2)
    print(orjson.dumps({"bench": "stages_us_per_alert", "alerts": alerts, "events": len(events), **per_alert}).decode())


if __name__ == "__main__":
    main()
