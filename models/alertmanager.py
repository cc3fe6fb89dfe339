"""Parser for Alertmanager webhook payloads (version "4") into ``Signal`` values.

Each alert is judged on its own ``status`` and ``endsAt``: the payload's top-level
``status`` describes the whole group and would resolve still-firing alerts. Unknown and
newer optional fields (``truncatedAlerts``, ``notification_reason``, ``routeLabels`` …)
are ignored. A bad alert inside a good envelope is rejected on its own (with its index);
a bad envelope rejects the whole payload.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from models.correlation import service_of
from models.errors import Reason, RejectedInput, Rejection
from models.fingerprint import fingerprint
from models.limits import DEFAULT_LIMITS, Limits
from models.signal import Signal, SignalStatus
from models.timestamps import GO_ZERO_TIME, TimestampError, parse_ms

SOURCE = "alertmanager"
SUPPORTED_VERSIONS = frozenset({"4"})


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Signals parsed from one payload, plus the items that were refused."""

    signals: list[Signal] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    group_key: str = ""

    @property
    def ok(self) -> bool:
        return not self.rejections


def decode_json(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> dict:
    """Decode a JSON object from bytes, raising ``RejectedInput`` with a reason."""
    if len(raw) > limits.max_payload_bytes:
        raise RejectedInput(Reason.TOO_LARGE, f"{len(raw)} bytes > {limits.max_payload_bytes}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedInput(Reason.INVALID_UTF8, str(exc)) from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RejectedInput(Reason.INVALID_JSON, str(exc)) from None
    if not isinstance(data, dict):
        raise RejectedInput(Reason.NOT_AN_OBJECT, f"top level is {type(data).__name__}")
    return data


def parse_webhook(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseResult:
    """Parse one webhook body; never raises."""
    try:
        payload = decode_json(raw, limits)
        alerts = _envelope_alerts(payload, limits)
    except RejectedInput as exc:
        return ParseResult(rejections=[Rejection(exc.reason, exc.detail)])
    group_key = payload.get("groupKey")
    result = ParseResult(group_key=group_key if isinstance(group_key, str) else "")
    for index, alert in enumerate(alerts):
        try:
            result.signals.append(parse_alert(alert, limits))
        except RejectedInput as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, index))
    return result


def _envelope_alerts(payload: dict, limits: Limits) -> list:
    version = payload.get("version")
    if version is not None and str(version) not in SUPPORTED_VERSIONS:
        raise RejectedInput(Reason.UNSUPPORTED_VERSION, f"webhook version {version!r}")
    alerts = payload.get("alerts")
    if alerts is None:
        raise RejectedInput(Reason.MISSING_FIELD, "alerts")
    if not isinstance(alerts, list):
        raise RejectedInput(Reason.WRONG_TYPE, "alerts must be a list")
    if len(alerts) > limits.max_alerts:
        raise RejectedInput(Reason.TOO_MANY_ALERTS, f"{len(alerts)} > {limits.max_alerts}")
    return alerts


def parse_alert(alert: object, limits: Limits = DEFAULT_LIMITS) -> Signal:
    """Turn one Alertmanager alert object into a ``Signal`` or raise ``RejectedInput``."""
    if not isinstance(alert, dict):
        raise RejectedInput(Reason.WRONG_TYPE, "alert must be an object")
    labels = _string_map(alert.get("labels"), "labels", limits, limits.max_value_length)
    if not labels:
        raise RejectedInput(Reason.MISSING_FIELD, "labels")
    annotations = _string_map(alert.get("annotations") or {}, "annotations", limits, limits.max_annotation_length)
    starts_at = _time(alert.get("startsAt"), "startsAt", required=True)
    ends_at = _time(alert.get("endsAt"), "endsAt", required=False)
    status = _status(alert.get("status"))
    computed = fingerprint(labels)
    given = alert.get("fingerprint")
    if given is not None and given != computed:
        raise RejectedInput(Reason.INVALID_VALUE, f"fingerprint {given!r} != labels' {computed}")
    generator_url = alert.get("generatorURL") or ""
    if not isinstance(generator_url, str):
        raise RejectedInput(Reason.WRONG_TYPE, "generatorURL must be a string")
    return Signal(
        source=SOURCE,
        fingerprint=computed,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        service=service_of(labels),
        title=annotations.get("summary") or labels.get("alertname") or computed,
        labels=labels,
        annotations=annotations,
        generator_url=generator_url[: limits.max_value_length],
    )


def _string_map(value: object, name: str, limits: Limits, max_value: int) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise RejectedInput(Reason.WRONG_TYPE if value is not None else Reason.MISSING_FIELD, name)
    if len(value) > limits.max_labels:
        raise RejectedInput(Reason.TOO_MANY_LABELS, f"{name}: {len(value)} > {limits.max_labels}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise RejectedInput(Reason.WRONG_TYPE, f"{name}.{key} must be a string")
        if len(key) > limits.max_name_length or len(item) > max_value:
            raise RejectedInput(Reason.LABEL_TOO_LONG, f"{name}.{key[:64]}")
    # Prometheus treats an empty label value as an absent label; Alertmanager drops it.
    return {key: item for key, item in value.items() if item}


def _time(value: object, name: str, *, required: bool) -> int:
    if value in (None, "", GO_ZERO_TIME) and not required:
        return 0
    if not isinstance(value, str):
        raise RejectedInput(Reason.MISSING_FIELD if value is None else Reason.WRONG_TYPE, name)
    try:
        return parse_ms(value)
    except TimestampError as exc:
        raise RejectedInput(Reason.BAD_TIMESTAMP, f"{name}: {exc}") from None


def _status(value: object) -> SignalStatus:
    if value is None:
        raise RejectedInput(Reason.MISSING_FIELD, "status")
    try:
        return SignalStatus(value)
    except ValueError:
        raise RejectedInput(Reason.INVALID_VALUE, f"status {value!r}") from None
