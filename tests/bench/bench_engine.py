"""The incident engine alone (no Kafka): inputs/s through ``step_in_place`` as the correlate
agent calls it, versus the copying ``step``; the cost of an exact duplicate; the cost of
storing state; the memory and stored bytes per active fingerprint at 100k fingerprints; and
the process RSS growth at 100k and 1M active fingerprints.

Prints one JSON line. Part of ``make bench``.
"""

import gc
import os
import sys
import time
import tracemalloc

import orjson

from models.engine import correlation_key, routing_key, step, step_in_place
from models.limits import DEFAULT_LIMITS
from models.parsers import parse_alerts
from models.policy import load_policy
from models.state import KeyState
from tests.bench.workload import alert_messages

INPUTS = 20_000
NOW = 1_795_780_000_000


def inputs() -> list:
    return [s for _, body, _ in alert_messages(INPUTS, NOW) for s in parse_alerts(body, DEFAULT_LIMITS, NOW).inputs]


def run(items: list, in_place: bool) -> tuple[float, dict]:
    policy, states = load_policy(), {}
    started = time.perf_counter()
    for item in items:
        token = routing_key(item, policy)
        state = states.get(token) or KeyState()
        if in_place:
            step_in_place(state, item, NOW, policy, key=correlation_key(item, policy))
        else:
            state, _, _ = step(state, item, NOW, policy, key=correlation_key(item, policy))
        states[token] = state
    return len(items) / (time.perf_counter() - started), states


def duplicate_us(items: list, states: dict) -> float:
    """Microseconds to recognise an input the state already holds (Alertmanager's re-sends)."""
    policy = load_policy()
    routed = [(states[routing_key(item, policy)], item, correlation_key(item, policy)) for item in items]
    started = time.perf_counter()  # routing is the edge's work: only the engine is timed
    for state, item, key in routed:
        step_in_place(state, item, NOW, policy, key=key)
    return 1e6 * (time.perf_counter() - started) / len(items)


def per_fingerprint(count: int = 100_000, keys: int = 1000) -> dict:
    """Memory and stored bytes per active fingerprint (one firing alert each).

    ``memory``: everything the inputs and the engine leave behind, including the parser's
    bounded label-set → fingerprint cache (``models.fingerprint``, at most 200k entries);
    ``engine_state``: what the steps allocate, plus the fingerprint strings the state is
    keyed by (the parser made them).
    """
    from streams.state_store import StateStore
    from tests.support.engine import alert

    policy = load_policy()
    tracemalloc.start()
    items = [(f"svc-{i % keys}", alert(f"A{i}", starts=NOW, service=f"svc-{i % keys}")) for i in range(count)]
    made = tracemalloc.get_traced_memory()[0]
    states = {}
    for service, item in items:
        state = states.setdefault(service, KeyState())
        step_in_place(state, item, NOW, policy, key=service)
    keys_bytes = sum(sys.getsizeof(fp) for state in states.values() for fp in state.signals)
    engine = tracemalloc.get_traced_memory()[0] - made + keys_bytes
    del items
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    table: dict = {}
    store = StateStore(table)
    for token, state in states.items():
        store.save(token, state, set(state.signals) | {""})
    stored = sum(len(value) for value in table.values())
    return {
        "memory_bytes_per_fingerprint": round(memory / count),
        "engine_state_bytes_per_fingerprint": round(engine / count),
        "stored_bytes_per_fingerprint": round(stored / count),
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_growth(checkpoints: tuple[int, ...] = (100_000, 1_000_000), keys: int = 1000) -> dict:
    """Process RSS growth (MB) while the engine holds 100k and 1M active fingerprints."""
    from tests.support.engine import alert

    policy, states, report = load_policy(), {}, {}
    gc.collect()
    base = rss_bytes()
    for i in range(max(checkpoints)):
        service = f"svc-{i % keys}"
        state = states.setdefault(service, KeyState())
        step_in_place(state, alert(f"A{i}", starts=NOW, service=service), NOW, policy, key=service)
        if i + 1 in checkpoints:
            report[f"rss_mb_at_{(i + 1) // 1000}k_fingerprints"] = round((rss_bytes() - base) / 2**20)
            report[f"rss_bytes_per_fingerprint_at_{(i + 1) // 1000}k"] = round((rss_bytes() - base) / (i + 1))
    return report


def main() -> None:
    rss = rss_growth()  # first: the allocator has no freed memory to reuse yet
    items = inputs()
    in_place, states = run(items, in_place=True)
    duplicate = duplicate_us(items, states)
    copying, _ = run(items[:5000], in_place=False)
    started = time.perf_counter()
    blobs = [state.to_json() for state in states.values()]
    to_json_ms = 1000 * (time.perf_counter() - started) / len(blobs)
    started = time.perf_counter()
    for state in states.values():
        state.to_dict()
    to_dict_ms = 1000 * (time.perf_counter() - started) / len(blobs)
    print(
        orjson.dumps(
            {
                "engine_inputs_per_s_in_place": round(in_place),
                "engine_inputs_per_s_copying": round(copying),
                "state_store_ms_orjson": round(to_json_ms, 3),
                "state_store_ms_to_dict": round(to_dict_ms, 3),
                "keys": len(states),
                "exact_duplicate_us": round(duplicate, 2),
                **per_fingerprint(),
                **rss,
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
