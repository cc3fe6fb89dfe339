"""Trace ids: one per accepted request, carried in Kafka headers, written in every log line.

An input keeps the id its sender gave — the trace id of a W3C ``traceparent`` header, else
``X-Request-Id`` — or gets a new one at the HTTP edge. It travels as the ``trace_id``
header from the input topic through the signals topic, so the dead-letter record and the
log lines of the incidents it touched can be joined with the sender's own logs.
"""

import re
import uuid
from collections.abc import Iterable, Mapping

HEADER = "trace_id"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_REQUEST_ID = re.compile(r"^[\w.:-]{1,128}$")


def from_http(headers: Mapping[str, str]) -> str:
    """The sender's trace id, or a new one."""
    parent = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if parent and parent.group(1) != "0" * 32:
        return parent.group(1)
    request_id = headers.get("X-Request-Id", "").strip()
    return request_id if _REQUEST_ID.match(request_id) else uuid.uuid4().hex


def from_kafka(headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None) -> str:
    """The ``trace_id`` header of a Kafka record ("" when it has none)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for key, value in pairs:
        if key == HEADER and value:
            return value.decode(errors="replace")
    return ""


def kafka_headers(trace_id: str) -> list[tuple[str, bytes]]:
    return [(HEADER, trace_id.encode())] if trace_id else []
