"""``make bench``: ``tocsin backtest`` over 200k stored inputs, against the engine alone.

A live run is simulated as the correlator runs the engine: the workload's Alertmanager
groups (10k fingerprints over 200 services, repeats, resolves, flapping) arrive 5 ms apart,
keys are ticked every 10 s, and the signal log and lifecycle events are written to chDB as
the sinks write them. ``backtest`` then reads them back and replays them twice (the policy
in force and a candidate with another ``flapping.changes``); it must reproduce the recorded
events. Its inputs/s are compared with the engine alone on the same inputs in this process.

Prints one JSON line.
"""

import tempfile
import time
from pathlib import Path

import orjson

from models.engine import correlation_key, routing_key, step_in_place, tick_in_place
from models.limits import DEFAULT_LIMITS
from models.parsers import parse_alerts
from models.policy import load_policy
from models.state import KeyState
from models.timers import scheduled
from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.migrate import migrate
from sinks.clickhouse.writer import EventWriter, JSONWriter
from streams import signal_log
from streams.backtest import backtest
from streams.row_records import row_records
from tests.bench.workload import alert_messages

INPUTS = 200_000
PARTITIONS = 4
DATABASE = "bench"
TICK_EVERY = 10_000


def live(start: int) -> tuple[list, list[dict], list[dict]]:
    """(inputs with their arrival, signal-log rows, lifecycle events) of a simulated live run."""
    policy, states, rows, events, arrivals = load_policy(), {}, [], [], []
    clock = start
    for offset, (_, body, _) in enumerate(alert_messages(INPUTS, start)):
        now = start + offset * 5
        while clock + TICK_EVERY <= now:
            clock += TICK_EVERY
            for token, state in states.items():
                if (due := scheduled(state, policy)) and due <= clock:
                    changed: set[str] = set()
                    emitted = tick_in_place(state, clock, policy, touched=changed)
                    if changed:
                        events += emitted
                        where = signal_log.Where(token, state.key, hash(token) % PARTITIONS, 2 * offset)
                        rows.append(signal_log.tick_record(clock, where, len(emitted)))
        for position, item in enumerate(parse_alerts(body, DEFAULT_LIMITS, now).inputs):
            token, key = routing_key(item, policy), correlation_key(item, policy)
            state = states.setdefault(token, KeyState())
            emitted, decision = step_in_place(state, item, now, policy, key=key)
            events += emitted
            where = signal_log.Where(token, key, hash(token) % PARTITIONS, 2 * offset + 1)
            rows.append(signal_log.record(item, decision, now, position, where))
            arrivals.append((token, key, now, item))
    return arrivals, rows, [e.to_dict() for e in events]


def engine_alone(arrivals: list) -> float:
    policy, states = load_policy(), {}
    started = time.perf_counter()
    for token, key, now, item in arrivals:
        step_in_place(states.setdefault(token, KeyState()), item, now, policy, key=key)
    return len(arrivals) / (time.perf_counter() - started)


def main() -> None:
    start = int(time.time() * 1000) - 3_600_000
    arrivals, rows, events = live(start)
    client = open_client(embedded_dsn(Path(tempfile.mkdtemp(prefix="tocsin-bench-backtest-"))))
    try:
        migrate(client, DATABASE)
        JSONWriter(client, f"{DATABASE}.signals", "signal_id").write_sync(list(row_records(rows)))
        EventWriter(client, DATABASE).write_events_sync(events)
        candidate = load_policy("flapping:\n  changes: 8\n")
        started = time.perf_counter()
        report = backtest(client, DATABASE, load_policy(), candidate, since="1d")
        backtest_s = time.perf_counter() - started
    finally:
        client.close()
    assert report["identical_to_recorded"], {k: v for k, v in report.items() if k != "differences"}
    alone = engine_alone(arrivals)
    replayed = 2 * report["window"]["inputs"]
    print(
        orjson.dumps(
            {
                "bench": "backtest",
                "inputs": report["window"]["inputs"],
                "ticks": report["window"]["ticks"],
                "events": report["recorded_events"],
                "identical_to_recorded": report["identical_to_recorded"],
                "backtest_s": round(backtest_s, 2),
                "backtest_inputs_per_s": round(replayed / backtest_s),
                "engine_alone_inputs_per_s": round(alone),
                "ratio_backtest_to_engine": round(replayed / backtest_s / alone, 3),
                "flapping_baseline_vs_candidate": [report["baseline"]["flapping"], report["candidate"]["flapping"]],
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
