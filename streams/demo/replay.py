"""Replaying the demo through a running instance's HTTP API, as real senders would.

Each phase is sent, then awaited on ``/v1/incidents`` — commands need the incident ids the
first phase produced, and waiting keeps each story step after the one it answers. At the
end it prints the incidents, the MTTA/MTTR table and where to go next.
"""

import threading
import time
from collections.abc import Callable

from models.timestamps import parse_ms
from streams.client import get_json, post_json
from streams.demo.scenario import STORY_MS, Phase, Post, anchor_ms, phases
from streams.reports import incidents_table, metrics_table


class DemoFailed(Exception):
    """The instance refused a demo input or did not show its effect in time."""


class Api:
    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def post(self, post: Post) -> None:
        status, answer = post_json(self.url + post.path, post.body, self.token)
        if status not in (200, 202):  # commands answer 200 with their outcome, inputs 202
            raise DemoFailed(f"POST {post.path} answered {status}: {answer}")

    def get(self, path: str) -> dict:
        status, answer = get_json(self.url + path, self.token)
        if status != 200:
            raise DemoFailed(f"GET {path} answered {status}: {answer}")
        return answer

    def wait(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout
        while not ready():
            if time.monotonic() > deadline:
                raise DemoFailed(f"{what}: not visible after {self.timeout:.0f} s")
            time.sleep(0.2)


def story_incidents(api: Api, t: int) -> list[dict]:
    """The incidents this replay opened (earlier runs anchored on other days are left out)."""
    rows = api.get("/v1/incidents")["incidents"]
    return [r for r in rows if t <= parse_ms(r["detected_at"]) <= t + STORY_MS]


def run_phase(api: Api, phase: Phase, t: int) -> None:
    for post in phase.posts:
        api.post(post)
    if phase.commands_for:
        by_service = {r["service"]: r["incident_id"] for r in story_incidents(api, t)}
        for service, commands in phase.commands_for.items():
            for command in commands:
                api.post(Post(f"/v1/incidents/{by_service[service]}/{command['action']}", command))
    api.wait(f"demo phase {phase.name}", lambda: phase.done(story_incidents(api, t)))


def summary(api: Api, t: int, url: str) -> str:
    rows = story_incidents(api, t)
    outage = next(r["incident_id"] for r in rows if r["service"] == "apex-api")
    metrics = api.get("/v1/incident-metrics?since=30d")["metrics"]
    return "\n".join(
        [
            "",
            "Demo replayed: the procedure's API outage and some everyday noise.",
            "",
            incidents_table(rows),
            "",
            "MTTA / MTTR (minutes) and SLA compliance, last 30 days:",
            metrics_table(metrics),
            "",
            f"Draft its post-mortem:  .venv/bin/tocsin postmortem {outage}",
            "Now point a real Alertmanager at it, with this receiver in alertmanager.yml",
            "(a complete example: deploy/alertmanager/alertmanager.yml):",
            f"  webhook_configs: [{{url: '{url}/v1/alertmanager', send_resolved: true}}]",
            "",
        ]
    )


def replay(url: str, token: str | None = None, now_ms: int | None = None, timeout: float = 60.0) -> str:
    """Replay the scenario through ``url``; the text to show the user."""
    api = Api(url, token, timeout)
    api.wait("tocsin readiness", lambda: get_json(url + "/readyz", token)[0] == 200)
    t = anchor_ms(now_ms if now_ms is not None else int(time.time() * 1000))
    for phase in phases(t):
        run_phase(api, phase, t)
    return summary(api, t, url)


def start(url: str, token: str | None, show: Callable[[str], None]) -> threading.Thread:
    """Replay in the background of a starting instance; ``show`` gets the summary or the error."""

    def main() -> None:
        try:
            show(replay(url, token))
        except DemoFailed as exc:
            show(f"demo stopped: {exc}")

    thread = threading.Thread(target=main, name="tocsin-demo", daemon=True)
    thread.start()
    return thread
