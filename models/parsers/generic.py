"""A generic tocsin signal, for senders with no format of their own.

``{"service", "title", "status": firing|resolved, "starts_at", "ends_at"?, "severity"?,
"labels"?, "annotations"?, "dedup_key"?}``. Identity: ``dedup_key`` if given, else the
configured ``dedup.fields`` of the ``generic`` source, else the label set with the service
and title — always through the Alertmanager fingerprint, whose 0xFF separator cannot occur
in UTF-8 text, so field boundaries stay unambiguous.
"""

from models.fingerprint import fingerprint
from models.limits import Limits
from models.links import links_of
from models.parsers.fields import choice, guarded, string_map, text, timestamp
from models.parsers.result import Parsed
from models.signal import Signal, SignalStatus

SOURCE = "generic"


def parse_signal(data: dict, limits: Limits, now: int, dedup_fields: tuple[str, ...] = ()) -> Parsed:
    return guarded(lambda: Parsed(inputs=[read_signal(data, limits, now, dedup_fields)]))


def read_signal(
    data: dict, limits: Limits, now: int, dedup_fields: tuple[str, ...] = (), source: str = SOURCE
) -> Signal:
    service = text(data, "service", limits)
    title = text(data, "title", limits, required=False) or text(data, "summary", limits)
    labels = string_map(data.get("labels"), "labels", limits, limits.max_value_length)
    annotations = string_map(data.get("annotations"), "annotations", limits, limits.max_annotation_length)
    status = choice(data, "status", SignalStatus, default="firing")
    starts_at = timestamp(data, "starts_at", required=False, default=now)
    ends_at = timestamp(data, "ends_at", required=False)
    if status is SignalStatus.RESOLVED and not ends_at:
        ends_at = now
    return Signal(
        source=SOURCE,
        fingerprint=_identity(data, service, title, labels, dedup_fields, limits),
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        service=service,
        title=title,
        labels={**labels, "service": service},
        annotations=annotations,
        generator_url=text(data, "url", limits, required=False),
        severity=text(data, "severity", limits, required=False).lower(),
        links=links_of([("source", data.get("url"))], annotations),
    )


def _identity(data: dict, service: str, title: str, labels: dict, fields: tuple[str, ...], limits: Limits) -> str:
    dedup_key = text(data, "dedup_key", limits, required=False)
    if dedup_key:
        return fingerprint({"dedup_key": dedup_key})
    if fields:
        merged = {**labels, **{k: v for k, v in data.items() if isinstance(v, str)}}
        return fingerprint({name: merged.get(name, "") for name in fields})
    return fingerprint({**labels, "service": service, "title": title})
