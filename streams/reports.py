"""``tocsin incidents`` and ``tocsin metrics``: read through a running instance, else ClickHouse.

chDB lets one process open a data directory: while ``tocsin up`` runs, the CLI asks its
HTTP API; when nothing answers there, it opens ClickHouse itself.
"""

from urllib.parse import urlencode

from models.policy import Policy
from models.postmortem import render
from sinks.clickhouse.client import embedded_dsn, open_client
from sinks.clickhouse.incident_detail import incident_detail
from sinks.clickhouse.queries import incident_events, incident_metrics, list_incidents
from streams.client import get_json
from streams.settings import Settings


def fetch(path: str, params: dict, settings: Settings, url: str, token: str | None, direct: callable) -> object:
    """JSON from ``url + path`` if a tocsin answers there, else ``direct(client, database)``."""
    query = urlencode({k: v for k, v in params.items() if v})
    status, body = get_json(f"{url}{path}?{query}", token)
    if status == 200:
        return body
    if status != 0:
        raise SystemExit(f"{url}{path} answered {status}: {body}")
    client = open_client(settings.clickhouse or embedded_dsn(settings.data_dir))
    try:
        return direct(client, settings.database)
    finally:
        client.close()


def incidents(settings: Settings, url: str, token: str | None, open_only: bool, severity: str) -> list[dict]:
    body = fetch(
        "/v1/incidents",
        {"open": "1" if open_only else "", "severity": severity},
        settings,
        url,
        token,
        lambda c, db: {"incidents": list_incidents(c, db, open_only=open_only, severity=severity)},
    )
    return body["incidents"]


def metrics(settings: Settings, policy: Policy, url: str, token: str | None, since: str, service: str) -> list[dict]:
    body = fetch(
        "/v1/incident-metrics",
        {"since": since, "service": service},
        settings,
        url,
        token,
        lambda c, db: {"metrics": incident_metrics(c, db, policy.sla, since=since, service=service)},
    )
    return body["metrics"]


def postmortem(settings: Settings, url: str, token: str | None, incident_id: str) -> str:
    body = fetch(
        f"/v1/incidents/{incident_id}/postmortem",
        {},
        settings,
        url,
        token,
        lambda c, db: {"markdown": render(incident_events(c, db, incident_id))},
    )
    return body["markdown"]


def show(settings: Settings, url: str, token: str | None, incident_id: str) -> dict:
    body = fetch(
        f"/v1/incidents/{incident_id}",
        {},
        settings,
        url,
        token,
        lambda c, db: incident_detail(c, db, incident_id) or {"error": f"no incident {incident_id}"},
    )
    if "error" in body:
        raise SystemExit(body["error"])
    return body


def detail_text(incident: dict) -> str:
    """``tocsin show``: the incident as an on-call engineer reads it."""
    reason = incident["reasons"][0] if incident["reasons"] else {}
    facts = ", ".join(f"{k}={v}" for k, v in reason.get("facts", {}).items())
    sla = incident["sla"]
    lines = [
        f"{incident['incident_id']}  {incident['severity']}  {incident['status']}  {incident['title']}",
        f"why {incident['severity']}: rule {reason.get('rule', '-')}" + (f" ({facts})" if facts else ""),
        f"services: {', '.join(incident['services'])}"
        + (f"  root cause: {incident['root_cause']}" if incident["root_cause"] else ""),
        f"roles: {', '.join(f'{r}={a}' for r, a in incident['roles'].items()) or '-'}",
        f"detected {incident['detected_at']}  acknowledged {incident['acknowledged_at'] or '-'}  "
        f"resolved {incident['resolved_at'] or '-'}",
        f"SLA response by {sla['response']['deadline'] or '-'} ({'met' if sla['response']['met'] else 'missed'}), "
        f"resolution by {sla['resolution']['deadline'] or '-'} ({'met' if sla['resolution']['met'] else 'missed'})",
        *(f"{name}: {url}" for name, url in incident.get("links", {}).items()),
        "",
        f"signals ({incident['signal_count']}):",
        table(
            [
                [s["source"], s["service"], s["status"], s["received"], s["first_at"], s["last_seen"], s["title"]]
                for s in incident["signals"]
            ],
            ["source", "service", "status", "received", "first", "last seen", "title"],
        ),
        "",
        "recent changes:" + ("" if incident.get("changes") else " none"),
        *(_change_line(c) for c in incident.get("changes", [])),
        "",
        "timeline:",
        table(
            [
                [e["seq"], e["at"], e["kind"], e["actor"], " ".join(f"{k}={v}" for k, v in e["details"].items())]
                for e in incident["timeline"]
            ],
            ["seq", "at", "kind", "actor", "details"],
        ),
    ]
    return "\n".join(lines)


def _change_line(change: dict) -> str:
    return f"  {change['at']}  {change['service']}: {change['summary']}  {change['source']} {change['link']}".rstrip()


def table(rows: list[list[object]], header: list[str]) -> str:
    """A plain aligned text table."""
    cells = [header, *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def metrics_table(rows: list[dict]) -> str:
    return table(
        [
            [
                r["severity"],
                r["incidents"],
                r["mtta_minutes"]["avg"],
                r["mtta_minutes"]["p50"],
                r["mtta_minutes"]["p90"],
                r["mttr_minutes"]["avg"],
                r["mttr_minutes"]["p50"],
                r["mttr_minutes"]["p90"],
                f"{r['response_sla_met_pct']}%",
                f"{r['resolution_sla_met_pct']}%",
            ]
            for r in rows
        ],
        ["severity", "incidents", "MTTA avg", "p50", "p90", "MTTR avg", "p50", "p90", "response SLA", "resolution SLA"],
    )


def incidents_table(rows: list[dict]) -> str:
    return table(
        [
            [r["incident_id"], r["severity"], r["status"], r["service"], r["detected_at"], r["resolved_at"], r["title"]]
            for r in rows
        ],
        ["incident", "sev", "status", "service", "detected", "resolved", "title"],
    )


def silences_table(rows: list[dict]) -> str:
    return table(
        [[r[c] for c in ("id", "state", "matchers", "starts_at", "ends_at", "created_by", "comment")] for r in rows],
        ["silence", "state", "matchers", "starts", "ends", "by", "comment"],
    )
