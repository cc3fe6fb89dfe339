"""The demo scenario: the procedure's post-mortem example plus everyday noise.

The API outage of the incident-management procedure — ``SystemDown`` on apex-api at 14:00
(database connection pool exhausted), acknowledged 14:05, root cause 14:10, rollback 14:15,
service recovered 14:30, incident resolved 14:45 — next to a disk alert Alertmanager keeps
repeating, a flapping latency alert, a user report and a failing smoke test. Times are
anchored on the latest 14:00 UTC that lies far enough in the past for the whole story, so
the metrics windows (last 30 days) include it. Bodies are what the real senders post.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from models.timestamps import format_ms

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
STORY_MS = 75 * MIN  # 14:00 → 15:15, the last input of the scenario
NEVER = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert


@dataclass(frozen=True)
class Post:
    """One HTTP request of the replay: a path under the instance's URL and its JSON body."""

    path: str
    body: dict


@dataclass(frozen=True)
class Phase:
    """Requests sent in order, then a wait until ``done`` holds for the incidents list."""

    name: str
    posts: list[Post]
    done: Callable[[list[dict]], bool]
    commands_for: dict[str, list[dict]] = field(default_factory=dict)  # service → commands on its incident


def anchor_ms(now_ms: int) -> int:
    """The latest 14:00 UTC whose whole story lies before ``now_ms``."""
    today = now_ms // DAY * DAY + 14 * HOUR
    return today if today + STORY_MS <= now_ms else today - DAY


def alert(name: str, service: str, severity: str, starts: int, ends: int = 0, **labels: str) -> dict:
    return {
        "status": "resolved" if ends else "firing",
        "labels": {"alertname": name, "service": service, "severity": severity, **labels},
        "annotations": {
            "summary": SUMMARIES[name],
            "runbook_url": f"https://runbooks.example.com/{name.lower()}",
        },
        "startsAt": format_ms(starts),
        "endsAt": format_ms(ends) if ends else NEVER,
        "generatorURL": "http://prometheus:9090/graph",
    }


SUMMARIES = {
    "SystemDown": "API service is down",
    "HighErrorRate": "High error rate detected",
    "DiskSpaceLow": "Disk space below 10%",
    "LatencyHigh": "p99 latency above 2s",
}


def webhook(service: str, *alerts: dict) -> Post:
    """An Alertmanager v4 webhook for one group (grouped by service, as in deploy/alertmanager)."""
    firing = any(a["status"] == "firing" for a in alerts)
    return Post(
        "/v1/alertmanager",
        {
            "version": "4",
            "receiver": "tocsin",
            "status": "firing" if firing else "resolved",
            "groupKey": f'{{}}:{{service="{service}"}}',
            "groupLabels": {"service": service},
            "commonLabels": {"service": service},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "truncatedAlerts": 0,
            "alerts": list(alerts),
        },
    )


def check(status: str, at: int) -> Post:
    body = {"check": "login-smoke", "service": "auth", "status": status, "kind": "smoke", "observed_at": format_ms(at)}
    return Post("/v1/checks", {**body, "probe": "eu-west-1", "message": f"login flow: {status}"})


def command(action: str, at: int, actor: str, **fields: str) -> dict:
    return {"action": action, "at": format_ms(at), "actor": actor, **fields}


def outage(t: int) -> tuple[dict, dict]:
    """The API outage's two alerts as they fire: the service down, then its error rate."""
    return (
        alert("SystemDown", "apex-api", "critical", t, job="apex-api"),
        alert("HighErrorRate", "apex-api", "warning", t + 2 * MIN),
    )


def detect(t: int) -> Phase:
    """Signals open five incidents: apex-api (P0), reports-batch, search, checkout, auth."""
    down, errors = outage(t)
    disk = alert("DiskSpaceLow", "reports-batch", "warning", t + 20 * MIN, instance="batch-1")
    flaps = []
    for n in range(4):  # firing 2 min, resolved 2 min, four times: flapping
        starts = t + (20 + 4 * n) * MIN
        latency = alert("LatencyHigh", "search", "warning", starts)
        flaps += [webhook("search", latency), webhook("search", {**latency, **resolved_at(starts + 2 * MIN)})]
    report = {
        "service": "checkout",
        "reporter": "support-desk",
        "summary": "Customers report card payments hanging at checkout",
        "reported_at": format_ms(t + 35 * MIN),
        "channel": "ticket",
    }
    posts = [
        webhook("apex-api", down),
        webhook("apex-api", down, errors),
        *[webhook("reports-batch", disk)] * 4,  # Alertmanager repeats an unchanged group
        *flaps,
        Post("/v1/reports", report),
        *[check("fail", t + (40 + n) * MIN) for n in range(3)],
        *[check("pass", t + (50 + n) * MIN) for n in range(2)],
    ]
    services = {"apex-api", "reports-batch", "search", "checkout", "auth"}
    return Phase("detect", posts, lambda rows: services <= {r["service"] for r in rows})


def resolved_at(ends: int) -> dict:
    return {"status": "resolved", "endsAt": format_ms(ends)}


def respond(t: int) -> Phase:
    """The on-call engineer acknowledges, takes roles, notes the cause; support closes its report."""
    apex = [
        command("ack", t + 5 * MIN, "oncall"),
        command("assign", t + 6 * MIN, "oncall", role="incident_commander", assignee="alice"),
        command("assign", t + 6 * MIN, "oncall", role="technical_lead", assignee="bob"),
        command("note", t + 10 * MIN, "oncall", text="Root cause identified: database connection pool exhausted"),
        command("note", t + 15 * MIN, "oncall", text="Rollback to previous version"),
    ]
    checkout = [
        command("ack", t + 50 * MIN, "support-lead"),
        command("resolve", t + 75 * MIN, "support-lead", text="Payment provider recovered; no new reports"),
    ]
    return Phase(
        "respond",
        [],
        lambda rows: all(r["acknowledged_at"] for r in rows if r["service"] in ("apex-api", "checkout")),
        commands_for={"apex-api": apex, "checkout": checkout},
    )


def recover(t: int) -> Phase:
    """The rollback brings the API back at 14:30; the error rate clears at 14:45."""
    down, errors = outage(t)
    posts = [
        webhook("apex-api", {**down, **resolved_at(t + 30 * MIN)}, errors),
        webhook("apex-api", {**down, **resolved_at(t + 30 * MIN)}, {**errors, **resolved_at(t + 45 * MIN)}),
    ]
    return Phase("recover", posts, lambda rows: all(r["resolved_at"] for r in rows if r["service"] == "apex-api"))


def phases(t: int) -> list[Phase]:
    return [detect(t), respond(t), recover(t)]
