"""Silences made over HTTP on one worker mute matching alerts on another, and let them
through when they end — expired early over HTTP, or at their end time — without a re-send.

Two ``tocsin worker`` processes (engine, sink, api; each its own chDB) share the signals
partitions on the session's real broker. The test makes the silence on A, checks that B
lists it, sends alerts whose keys B's engine owns and A's engine owns, and reads the
outcomes from the signal log and the lifecycle events from ``tocsin.incidents``.
"""

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from models.correlation import key_for_service, key_token
from models.timestamps import format_ms
from streams.client import delete_json, get_json, post_json
from streams.local.broker import EmbeddedBroker, free_port
from streams.routing import partition_of
from streams.topics import TopicNames, ensure_topics
from tests.support.processes import readyz, spawn_worker, wait_until
from tests.support.stack import read_until

pytestmark = pytest.mark.integration
PARTITIONS = 4


def owned(port: int) -> list[int]:
    body = readyz(port)
    found = [p for topic, p in body.get("partitions", {}).items() if topic.endswith(".signals")]
    return found[0] if body.get("ready") and found else []


def service_on(partitions: list[int], prefix: str) -> str:
    """A service whose key lives on one of ``partitions``."""
    for i in range(200):
        service = f"{prefix}-{i}"
        if partition_of(key_token(key_for_service(service, {})), PARTITIONS) in partitions:
            return service
    raise AssertionError("no such service")


def webhook(*services: str, status: str = "firing", starts: int = 0, **labels: str) -> dict:
    now = int(time.time() * 1000)
    labels = {"alertname": "Down", "severity": "critical", **labels}
    alert = {"status": status, "startsAt": format_ms(starts or now)}
    if status == "resolved":
        alert["endsAt"] = format_ms(now)
    alerts = [{**alert, "labels": {**labels, "service": s}} for s in services]
    return {"version": "4", "status": status, "alerts": alerts}


def read(broker: EmbeddedBroker, topic: str, done: Callable[[list[dict]], bool], timeout: float) -> list[dict]:
    """Rows of ``topic`` (a record may carry a list of rows) once ``done`` holds for them."""

    def rows(records: list) -> list[dict]:
        out: list[dict] = []
        for record in records:
            value = orjson.loads(record.value)
            out += value if isinstance(value, list) else [value]
        return out

    records = asyncio.run(read_until(broker.bootstrap_servers, topic, lambda r: done(rows(r)), timeout))
    return rows(records)


def tocsin(*args: str) -> str:
    """The ``tocsin`` command line's output (it must succeed)."""
    done = subprocess.run([str(Path(sys.executable).parent / "tocsin"), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def opened(events: list[dict], service: str) -> bool:
    return any(e["kind"] == "opened" and e["service"] == service for e in events)


def test_a_silence_made_on_one_worker_mutes_on_another_and_ends_there(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app_id, prefix = f"sil-{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:8]}"
    names = TopicNames(prefix)
    asyncio.run(ensure_topics(broker.bootstrap_servers, names, PARTITIONS))
    ports = free_port(), free_port()
    options = ["--roles", "engine,sink,api", "--partitions", str(PARTITIONS), "--app-id", app_id]
    workers = [
        spawn_worker(broker.url, tmp_path / name, port, "memory://", *options, "--topic-prefix", prefix)
        for name, port in zip("ab", ports, strict=True)
    ]
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        wait_until(lambda: all(owned(p) for p in ports), 120, "both workers ready, each owning partitions")
        on_a, on_b = owned(ports[0]), owned(ports[1])
        assert sorted(on_a + on_b) == list(range(PARTITIONS))
        db_a, db_b, web = service_on(on_a, "db"), service_on(on_b, "db"), service_on(on_b, "web")

        status, made = post_json(
            f"{a}/v1/silences",
            {"matchers": '{service=~"db-.*", severity!="info"}', "duration": "1h", "comment": "db upgrade"},
        )
        assert status == 200, made
        silence_id = made["id"]
        assert made["state"] == "active" and made["matchers"] == '{service=~"db-.*", severity!="info"}'

        def listed_on_b() -> list:
            return [s for s in get_json(f"{b}/v1/silences?state=active")[1]["silences"] if s["id"] == silence_id]

        wait_until(listed_on_b, 20, "B to list the silence made on A")
        assert post_json(f"{a}/v1/alertmanager", webhook(db_a, db_b, web))[0] == 202

        log = read(broker, names.signal_log, lambda rows: len([r for r in rows if r["input"] == "signal"]) >= 3, 30)
        outcomes = {r["service"]: (r["outcome"], r["reason"]) for r in log if r["input"] == "signal"}
        assert outcomes[db_b][0] == outcomes[db_a][0] == "suppressed", outcomes
        assert outcomes[db_b][1].startswith(f"silence {silence_id}"), "the row names the silence"
        assert outcomes[web][0] == "accepted"
        events = read(broker, names.incidents, lambda e: opened(e, web), 30)
        assert not opened(events, db_a) and not opened(events, db_b)

        status, ended = delete_json(f"{b}/v1/silences/{silence_id}")
        assert status == 200 and ended["state"] == "expired", ended
        events = read(broker, names.incidents, lambda e: opened(e, db_a) and opened(e, db_b), 30)
        assert opened(events, db_a) and opened(events, db_b), "expired, the still-firing alerts open incidents"
        assert delete_json(f"{a}/v1/silences/nope")[0] == 404

        listed = orjson.loads(tocsin("silence", "list", "--url", b, "--state", "expired", "--json"))
        assert [s["id"] for s in listed] == [silence_id], "the command line lists it as expired"

        cache = service_on(on_b, "cache")
        made = tocsin("silence", "add", f'service="{cache}"', "--duration", "5s", "--comment", "cache swap", "--url", b)
        assert made.startswith("silence ") and f'{{service="{cache}"}}' in made, made
        assert post_json(f"{a}/v1/alertmanager", webhook(cache))[0] == 202
        muted_at = time.monotonic()
        events = read(broker, names.incidents, lambda e: opened(e, cache), 40)
        assert opened(events, cache), "at its end time the silence lets the alert through"
        assert time.monotonic() - muted_at >= 3, "not before the silence ended"
        assert post_json(f"{a}/v1/silences", {"matchers": "{service=}", "ends_at": "yesterday"})[0] == 400
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)


INHIBIT = "suppression: {inhibit: [{source: {alertname: SystemDown}, target: {severity: warning}, equal: [cluster]}]}\n"


def test_a_source_inhibits_targets_in_other_keys_until_it_resolves(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app_id, prefix = f"inh-{uuid.uuid4().hex[:8]}", f"i{uuid.uuid4().hex[:8]}"
    names = TopicNames(prefix)
    asyncio.run(ensure_topics(broker.bootstrap_servers, names, PARTITIONS))
    policy = tmp_path / "policy.yaml"
    policy.write_text(INHIBIT)
    port = free_port()
    options = ["--roles", "engine,sink,api", "--partitions", str(PARTITIONS), "--app-id", app_id]
    options += ["--topic-prefix", prefix, "--policy", str(policy)]
    worker = spawn_worker(broker.url, tmp_path / "w", port, "memory://", *options)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: owned(port), 120, "the worker ready")
        started = int(time.time() * 1000)
        down = webhook("db", alertname="SystemDown", cluster="c1", starts=started)
        assert post_json(f"{url}/v1/alertmanager", down)[0] == 202

        def inhibition() -> list:
            active = get_json(f"{url}/v1/silences?state=active")[1]["silences"]
            return [s for s in active if s["created_by"] == "inhibition"]

        (made,) = wait_until(inhibition, 20, "the source's silence")
        assert made["matchers"] == '{severity="warning", cluster="c1"}' and "SystemDown on db" in made["comment"]

        slow = {"alertname": "Slow", "severity": "warning"}
        assert post_json(f"{url}/v1/alertmanager", webhook("web", cluster="c1", **slow))[0] == 202
        assert post_json(f"{url}/v1/alertmanager", webhook("api", cluster="c2", **slow))[0] == 202
        log = read(broker, names.signal_log, lambda rows: len([r for r in rows if r["input"] == "signal"]) >= 3, 30)
        outcomes = {r["service"]: (r["outcome"], r["reason"]) for r in log if r["input"] == "signal"}
        assert outcomes["web"] == ("suppressed", f"silence {made['id']}: {made['comment']}"), outcomes
        assert outcomes["api"][0] == "accepted", "another cluster: not inhibited"
        events = read(broker, names.incidents, lambda e: opened(e, "api") and opened(e, "db"), 30)
        assert not opened(events, "web")

        resolved = webhook("db", status="resolved", alertname="SystemDown", cluster="c1", starts=started)
        assert post_json(f"{url}/v1/alertmanager", resolved)[0] == 202
        events = read(broker, names.incidents, lambda e: opened(e, "web"), 30)
        assert opened(events, "web"), "the source resolved: the still-firing target opens an incident"
        assert not inhibition(), "the source's silence ended with it"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
