"""Notifications end to end: a P0 pages, escalates until an HTTP ack, survives a worker kill,
reminds on its cadence, and reaches a receiver that fails for its first 30 s — every
notification exactly once after dedup by id.

One ``tocsin worker`` (every role, ``notify`` included as the policy has channels) on the
session's real broker; the receiver is a real local HTTP server with four endpoints: a
pager webhook, a Slack-style chat hook, a flaky webhook answering 503 for 30 s, and one
answering 404 (dead-lettered at once). The worker is SIGKILLed after the second step's first
page and started again.
"""

import asyncio
import json
import signal
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from models.notification import plan
from models.policy import load_policy
from models.timestamps import format_ms, parse_ms
from streams.local.broker import EmbeddedBroker, free_port
from streams.topics import TopicNames
from tests.support.processes import readyz, spawn_worker, wait_until
from tests.support.stack import post, read_until

pytestmark = pytest.mark.integration
FLAKY_SECONDS = 30.0

POLICY = """
notifications:
  public_url: http://127.0.0.1:{api}
  channels:
    oncall: {{type: webhook, url: "http://127.0.0.1:{hook}/oncall"}}
    flaky: {{type: webhook, url: "http://127.0.0.1:{hook}/flaky"}}
    chat: {{type: slack, url: "http://127.0.0.1:{hook}/chat"}}
    gone: {{type: webhook, url: "http://127.0.0.1:{hook}/gone"}}
  routes:
    - match: {{severity: P0}}
      escalation:
        - {{after: 0s, notify: [oncall, flaky, chat, gone]}}
        - {{after: 4s, notify: [oncall, flaky], repeat: 3s}}
      updates: {{every: 5s, notify: [chat]}}
      on: [opened, acknowledged, resolved]
  delivery: {{max_backoff: 2s, give_up: 2m}}
"""


class Receiver:
    """Records every request: (arrival, endpoint, id, body, answer)."""

    def __init__(self, flaky_until: float) -> None:
        self.flaky_until, self.calls, self.lock = flaky_until, [], threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = 503 if self.path == "/flaky" and time.time() < receiver.flaky_until else 200
                status = 404 if self.path == "/gone" else status
                with receiver.lock:
                    receiver.calls.append((time.time(), self.path[1:], self.headers["Idempotency-Key"], body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        return Handler

    def received(self, endpoint: str) -> dict[str, tuple[float, dict]]:
        """Delivered (2xx) notifications by id: the first arrival of each (a receiver's dedup)."""
        with self.lock:
            calls = list(self.calls)
        found: dict[str, tuple[float, dict]] = {}
        for at, where, key, body, status in calls:
            if where == endpoint and status == 200:
                found.setdefault(key, (at, body))
        return found


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    found = Receiver(time.time() + 3600)
    server = ThreadingHTTPServer(("127.0.0.1", 0), found.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found, server.server_address[1]
    server.shutdown()


def alert(status: str, starts: int, ends: int = 0) -> bytes:
    item = {"status": status, "labels": {"alertname": "PaymentsDown", "service": "pay", "severity": "critical"}}
    item |= {"startsAt": format_ms(starts), "endsAt": format_ms(ends) if ends else "0001-01-01T00:00:00Z"}
    return orjson.dumps({"version": "4", "status": status, "groupKey": "g", "alerts": [item]})


def dead_ids(records: list) -> set[str]:
    """The notification ids of dead-letter records."""
    return {orjson.loads(r.value)["note"]["notification_id"] for r in records}


def pages(receiver: Receiver, endpoint: str = "oncall") -> list[tuple[str, str]]:
    bodies = sorted(receiver.received(endpoint).values(), key=lambda found: found[0])
    escalated = [b["event"]["details"] for _, b in bodies if b["event"]["kind"] == "escalated"]
    return [(details["step"], details["page"]) for details in escalated]


def test_pages_escalate_until_ack_across_a_restart_and_reach_a_flaky_receiver(
    broker: EmbeddedBroker, tmp_path: Path, receiver: tuple[Receiver, int]
) -> None:
    hooks, hook_port = receiver
    prefix, port = f"ntf{uuid.uuid4().hex[:8]}", free_port()
    policy_text = POLICY.format(api=port, hook=hook_port)
    (tmp_path / "policy.yaml").write_text(policy_text)
    options = ("--app-id", f"ntf-{prefix}", "--topic-prefix", prefix, "--policy", str(tmp_path / "policy.yaml"))
    names, url = TopicNames(prefix), f"http://127.0.0.1:{port}"

    def start() -> object:
        worker = spawn_worker(broker.url, tmp_path, port, "memory://", *options)
        wait_until(lambda: readyz(port).get("ready"), 90, "the worker to be ready")
        return worker

    def events() -> list[dict]:
        records = asyncio.run(read_until(broker.bootstrap_servers, names.incidents, lambda _: False, 1.5))
        unique = {e["event_id"]: e for e in (orjson.loads(r.value) for r in records)}  # effectively once
        return sorted(unique.values(), key=lambda e: e["seq"])

    worker = start()
    try:
        detected = int(time.time() * 1000)
        hooks.flaky_until = detected / 1000 + FLAKY_SECONDS  # failing from the first notification on
        assert asyncio.run(post(f"{url}/v1/alertmanager", alert("firing", detected)))[0] == 202
        first = wait_until(lambda: hooks.received("oncall"), 10, "the first page")
        assert min(at for at, _ in first.values()) - detected / 1000 < 2.0  # paged within 2 s of the event

        wait_until(lambda: ("2", "1") in pages(hooks), 15, "the second step's first page")
        worker.send_signal(signal.SIGKILL)  # in the middle of escalating
        worker.wait(30)
        before_kill = pages(hooks)
        worker = start()
        wait_until(lambda: len(pages(hooks)) >= len(before_kill) + 2, 40, "two re-pages after the restart")

        incident_id = next(e for e in events() if e["kind"] == "opened")["incident_id"]
        status, _ = asyncio.run(post(f"{url}/v1/incidents/{incident_id}/ack", b'{"actor": "alice"}'))
        assert status == 200  # the engine applied it
        acked = wait_until(lambda: [e for e in events() if e["kind"] == "acknowledged"], 10, "the ack")[0]
        time.sleep(max(0.0, detected / 1000 + FLAKY_SECONDS - time.time()) + 1)  # past the flaky window
        ended = int(time.time() * 1000)
        assert asyncio.run(post(f"{url}/v1/alertmanager", alert("resolved", detected, ended)))[0] == 202

        notes = load_policy(policy_text).notifications

        def expected() -> dict[str, set[str]] | None:
            found = events()
            if not any(e["kind"] == "resolved" for e in found):
                return None
            planned: dict[str, set[str]] = {"oncall": set(), "flaky": set(), "chat": set(), "gone": set()}
            for event in found:
                for note in plan(event, notes):
                    planned[note.channel].add(note.notification_id)
            refused[:] = list(planned.pop("gone"))
            delivered = all(planned[c] <= set(hooks.received(c)) for c in planned)
            told = {e["details"]["notification"] for e in found if e["kind"] == "notified"}
            return planned if delivered and told >= set().union(*planned.values()) else None

        refused: list[str] = []
        planned = wait_until(expected, 30, "every planned notification to be delivered")
        metrics = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    finally:
        worker.terminate()
        worker.wait(60)

    final = events()
    # Every notification reached its receiver once after dedup by id: none lost, none unplanned.
    for channel, ids in planned.items():
        assert set(hooks.received(channel)) == ids, channel
    flaky_first_ok = min(at for at, _ in hooks.received("flaky").values())
    assert flaky_first_ok >= hooks.flaky_until  # it failed for 30 s, then got the backlog

    # A receiver that answers 404 is not retried: each of its notifications is dead-lettered
    # (at least once, like every output: a page refused just before the kill is planned again).
    assert refused and not hooks.received("gone")
    dead = asyncio.run(read_until(broker.bootstrap_servers, names.dlq, lambda r: dead_ids(r) >= set(refused), 10))
    assert dead_ids(dead) == set(refused) and len(dead) <= 2 * len(refused)
    assert {dict(r.headers)["reason"] for r in dead} == {b"not_delivered"}
    failed = 'tocsin_notifications_total{channel="gone",outcome="failed"} '
    counted = [float(line.removeprefix(failed)) for line in metrics.splitlines() if line.startswith(failed)]
    assert counted and counted[0] >= 1  # counted since the restart

    # Each escalation step fired once per page number, none repeated across the kill, none after the ack.
    escalated = [
        (e["details"]["step"], int(e["details"]["page"]), parse_ms(e["at"])) for e in final if e["kind"] == "escalated"
    ]
    assert len({(s, p) for s, p, _ in escalated}) == len(escalated), escalated
    second = [p for s, p, _ in escalated if s == "2"]
    assert second == sorted(second) and len(second) >= 3, escalated
    assert all(at <= parse_ms(acked["at"]) for _, _, at in escalated), (escalated, acked["at"])
    assert {(s, str(p)) for s, p, _ in escalated} == set(pages(hooks))  # the pager saw each, once

    # The reminders came every 5 s from detection while open.
    reminders = [parse_ms(e["at"]) - parse_ms(e["detected_at"]) for e in final if e["kind"] == "update_due"]
    assert reminders and all(r % 5000 == 0 for r in reminders) and reminders == sorted(set(reminders)), reminders
    assert [b["text"] for _, b in hooks.received("chat").values() if "status update due" in b["text"]]

    # The timeline says who was told what: one notified event per delivered notification.
    told = {e["details"]["notification"]: e["details"]["channel"] for e in final if e["kind"] == "notified"}
    assert set(told) == set().union(*planned.values())
