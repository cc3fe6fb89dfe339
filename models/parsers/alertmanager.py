"""Alertmanager webhook payloads (version "4") and Prometheus/Alertmanager API v2 alerts.

Each alert is judged on its own ``status`` and ``endsAt``: the payload's top-level
``status`` describes the whole group and would resolve still-firing alerts. Unknown and
newer optional fields (``truncatedAlerts``, ``notification_reason``, ``routeLabels`` …)
are ignored. A bad alert inside a good envelope is rejected on its own (with its index);
a bad envelope rejects the whole payload.

API v2 alerts (what Prometheus posts to Alertmanager) carry no status: an ``endsAt`` at or
before the arrival time means resolved, as Alertmanager itself decides.

Grafana-managed alerting posts the same shape with ``"version": "1"`` (plus ``orgId``,
``state``, ``title``, ``message`` and per alert ``values``, ``valueString``, ``silenceURL``,
``dashboardURL``, ``panelURL``). Its alerts are source ``grafana`` and keep Grafana's own
``fingerprint`` as identity (Grafana hashes labels its own way), so an alert is the same
alert in Grafana and in tocsin; dedup and correlation are those of Alertmanager alerts.
"""

import re

from models.correlation import service_of
from models.errors import Reason, RejectedInput
from models.fingerprint import fingerprint
from models.limits import Limits
from models.links import links_of
from models.parsers.fields import each, guarded, require_object, string_map, timestamp
from models.parsers.result import Parsed
from models.signal import Signal, SignalStatus

SOURCE = "alertmanager"
GRAFANA = "grafana"
SUPPORTED_VERSIONS = frozenset({"4"})
GRAFANA_VERSION = "1"
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
SEVERITY_LABELS = ("severity", "priority")
_STATUSES = {status.value: status for status in SignalStatus}
#: Link name → alert field: Alertmanager sends generatorURL; Grafana adds the others.
LINK_FIELDS = (
    ("source", "generatorURL"),
    ("silence", "silenceURL"),
    ("dashboard", "dashboardURL"),
    ("panel", "panelURL"),
    ("image", "imageURL"),
)


def parse_webhook(payload: dict, limits: Limits, now: int = 0) -> Parsed:
    """One webhook body (already decoded); never raises."""

    def parse() -> Parsed:
        version = payload.get("version")
        source = GRAFANA if version is not None and str(version) == GRAFANA_VERSION else SOURCE
        if version is not None and str(version) not in SUPPORTED_VERSIONS and source != GRAFANA:
            raise RejectedInput(Reason.UNSUPPORTED_VERSION, f"webhook version {version!r}")
        alerts = payload.get("alerts")
        if alerts is None:
            raise RejectedInput(Reason.MISSING_FIELD, "alerts")
        if not isinstance(alerts, list):
            raise RejectedInput(Reason.WRONG_TYPE, "alerts must be a list")
        parsed = parse_alerts_of(alerts, limits, now, source)
        group_key = payload.get("groupKey")
        parsed.group_key = group_key if isinstance(group_key, str) else ""
        return parsed

    return guarded(parse)


def parse_api_alerts(alerts: list, limits: Limits, now: int) -> Parsed:
    """A list of API v2 alerts, as Prometheus posts them."""
    return parse_alerts_of(alerts, limits, now, SOURCE)


def parse_alerts_of(alerts: list, limits: Limits, now: int, source: str) -> Parsed:
    """Every alert of a webhook or API v2 list; a bad one is rejected alone."""
    return each(alerts, lambda a: parse_alert(a, limits, now, source), limits)


def parse_alert(alert: object, limits: Limits, now: int = 0, source: str = SOURCE) -> Signal:
    """One alert object (a dict, or a ``typed_alerts.TypedAlert``) → ``Signal``, or ``RejectedInput``."""
    if not hasattr(alert, "get"):
        alert = require_object(alert, "alert")
    labels = string_map(alert.get("labels"), "labels", limits, limits.max_value_length, required=True)
    if not labels:
        raise RejectedInput(Reason.MISSING_FIELD, "labels")
    annotations = string_map(alert.get("annotations"), "annotations", limits, limits.max_annotation_length)
    ends_at = timestamp(alert, "endsAt", required=False)
    starts_at = timestamp(alert, "startsAt", required=now == 0, default=now)
    computed = _identity(alert, labels, source)
    generator_url = alert.get("generatorURL") or ""
    if not isinstance(generator_url, str):
        raise RejectedInput(Reason.WRONG_TYPE, "generatorURL must be a string")
    return Signal(
        source=source,
        fingerprint=computed,
        status=_status(alert.get("status"), ends_at, now),
        starts_at=starts_at,
        ends_at=ends_at,
        service=service_of(labels),
        title=annotations.get("summary") or labels.get("alertname") or computed,
        labels=labels,
        annotations=annotations,
        generator_url=generator_url[: limits.max_value_length],
        severity=_severity(labels),
        links=links_of([(name, alert.get(field)) for name, field in LINK_FIELDS], annotations),
    )


def _severity(labels: dict[str, str]) -> str:
    for name in SEVERITY_LABELS:
        value = labels.get(name)
        if value:
            return value.lower()
    return ""


def _identity(alert: dict, labels: dict[str, str], source: str) -> str:
    """Alertmanager's fingerprint of the labels (a given one must match); Grafana's as given."""
    given = alert.get("fingerprint")
    if source == GRAFANA and isinstance(given, str) and _HEX16.match(given):
        return given
    computed = fingerprint(labels)
    if source != GRAFANA and given is not None and given != computed:
        raise RejectedInput(Reason.INVALID_VALUE, f"fingerprint {given!r} != labels' {computed}")
    return computed


def _status(value: object, ends_at: int, now: int) -> SignalStatus:
    if value is None:
        if now == 0:
            raise RejectedInput(Reason.MISSING_FIELD, "status")
        return SignalStatus.RESOLVED if ends_at and ends_at <= now else SignalStatus.FIRING
    status = _STATUSES.get(value) if isinstance(value, str) else None
    if status is None:
        raise RejectedInput(Reason.INVALID_VALUE, f"status {value!r}")
    return status
