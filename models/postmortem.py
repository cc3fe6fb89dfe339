"""A post-mortem draft in Markdown, following the incident-management template.

Built from an incident's lifecycle events alone (as stored in ClickHouse or read from
Kafka), so it can be regenerated at any time: header, executive summary, timeline with
detection / response / resolution times and key events, root-cause analysis seeded with
the correlated signals and the root-cause candidate, impact, action items and lessons
learned — the parts only people can write are left as prompts.
"""

from collections.abc import Sequence

from models.timestamps import parse_ms

KEY_EVENT_TEXT = {
    "opened": "Alert received: {title}",
    "signal_added": "Correlated signal {fingerprint} joined",
    "signal_resolved": "Signal {fingerprint} recovered",
    "severity_changed": "Severity {from} → {to}",
    "acknowledged": "Acknowledged by {actor}",
    "role_assigned": "{assignee} assigned as {role}",
    "note_added": "{text} ({actor})",
    "resolved": "Resolved{by}",
    "reopened": "Reopened{by}",
    "closed": "Closed{by}",
    "flapping_started": "Signal {fingerprint} started flapping",
    "flapping_stopped": "Signal {fingerprint} stopped flapping",
    "sla_breached": "{sla} SLA breached (deadline {deadline})",
    "postmortem_due": "{stage} post-mortem due",
    "change_noted": "Change to {service}: {summary}{from_source}",
    "escalated": "Escalation step {step}: paged {notify} (page {page})",
    "update_due": "Status update #{update} due ({notify})",
    "notified": "{channel} told: {of}",
}


def _clock(at: str | None) -> str:
    return at[11:16] if at else "—"


def _minutes(start: str | None, end: str | None) -> str:
    if not start or not end:
        return "—"
    from_ms, to_ms = parse_ms(start), parse_ms(end)
    minutes = (to_ms - from_ms) // 60_000
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def key_event(event: dict) -> str:
    details = event.get("details") or {}
    by = f" by {event['actor']}" if event.get("actor") else ""
    values = {
        **event,
        **details,
        "by": by,
        "sla": details.get("sla", "").capitalize(),
        "stage": details.get("stage", "").capitalize(),
        "from_source": f" ({details['source']})" if details.get("source") else "",
    }
    return KEY_EVENT_TEXT.get(event["kind"], event["kind"]).format_map(_Default(values))


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _links(event: dict) -> str:
    """The incident's links as Markdown (events stored before links existed: its runbook)."""
    links = dict(event.get("links") or {})
    if event.get("runbook_url"):
        links.setdefault("runbook", event["runbook_url"])
    return ", ".join(f"[{name}]({url})" for name, url in links.items()) or "none"


def _changes(events: list[dict]) -> str:
    """The changes noted on the incident, as Markdown (linked where a link came with them)."""
    described = []
    for event in events:
        details = event.get("details") or {}
        text = f"{_clock(event['at'])} {key_event(event)}"
        described.append(f"[{text}]({details['link']})" if details.get("link") else text)
    return "; ".join(described) or "none in the window before detection"


def render(events: Sequence[dict]) -> str:
    """The Markdown draft for one incident's events (any order, duplicates allowed)."""
    unique = {e["event_id"]: e for e in events}
    ordered = sorted(unique.values(), key=lambda e: e["seq"])
    if not ordered:
        raise ValueError("no events for this incident")
    last, first = ordered[-1], ordered[0]
    notes = [e["details"].get("text", "") for e in ordered if e["kind"] == "note_added"]
    changes = [e for e in ordered if e["kind"] == "change_noted"]
    detected, acked, resolved = last["detected_at"], last["acknowledged_at"], last["resolved_at"]
    lines = [
        f"# Post-mortem: {last['title']}",
        "",
        f"**Incident**: {last['incident_id']}  ",
        f"**Date**: {detected[:10]}  ",
        f"**Duration**: {_minutes(detected, resolved)}  ",
        f"**Severity**: {last['severity']}  ",
        f"**Services**: {', '.join(last['services']) or last['service']}",
        "",
        "## 1. Executive Summary",
        "",
        f"- **What happened**: {first['title']} on {last['service']}.",
        f"- **Impact**: _who and what was affected, for how long ({_minutes(detected, resolved)})._",
        f"- **Root cause**: {notes[0] if notes else '_to be written_'}",
        f"- **Resolution**: {notes[-1] if len(notes) > 1 else '_to be written_'}",
        "",
        "## 2. Timeline",
        "",
        f"- **Detection time**: {_clock(detected)} ({detected})",
        f"- **Response time**: {_clock(acked)} ({_minutes(detected, acked)} after detection)",
        f"- **Resolution time**: {_clock(resolved)} ({_minutes(detected, resolved)} after detection)",
        "",
        "**Key events** (UTC):",
        "",
        *[f"- {_clock(e['at'])}: {key_event(e)}" for e in sorted(ordered, key=lambda e: (e["at"], e["seq"]))],
        "",
        "## 3. Root Cause Analysis",
        "",
        f"- **Direct cause**: {notes[0] if notes else '_to be written_'}",
        "- **Contributing factors**: _to be written_",
        "- **System design issues**: _to be written_",
        "- **Process issues**: _to be written_",
        f"- **Root-cause candidate** (dependency graph): {last['root_cause'] or 'none named'}",
        f"- **Correlated signals**: {', '.join(last['fingerprints']) or 'none'}",
        f"- **Why {last['severity']}**: " + "; ".join(f"{r['rule']} ({r['facts']})" for r in last.get("reasons") or []),
        f"- **Recent changes** (review first): {_changes(changes)}",
        f"- **Links**: {_links(last)}",
        "",
        "## 4. Impact Assessment",
        "",
        "- **Users affected**: _to be written_",
        "- **Business impact**: _to be written_",
        "- **Data impact**: _to be written_",
        "- **Cost impact**: _to be written_",
        "",
        "## 5. Action Items",
        "",
        "1. _Immediate fix — owner, deadline_",
        "2. _Short-term improvement — owner, deadline_",
        "3. _Long-term change — owner, deadline_",
        "",
        "## 6. Lessons Learned",
        "",
        "- **What went well**: _to be written_",
        "- **What didn't go well**: _to be written_",
        "- **What to improve**: _to be written_",
        "- **Knowledge sharing**: _to be written_",
        "",
    ]
    return "\n".join(lines)
