"""CloudEvents binary mode: the event's attributes in headers (``ce_`` on Kafka, ``ce-`` over
HTTP), its data as the body. tocsin reads it as the structured event its parsers know.

Structured mode (a ``application/cloudevents+json`` body, or a batch of them) needs nothing
here: the alert parsers recognise it by its shape.
"""

import base64
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

import orjson

KAFKA_PREFIX = "ce_"
HTTP_PREFIX = "ce-"
_CONTENT_TYPES = ("content-type", "content_type")


def structured(headers: Iterable[tuple[str, bytes | str]] | Mapping | None, body: bytes, prefix: str) -> bytes | None:
    """The structured JSON of a binary-mode event, or None when ``headers`` carry none."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    attributes: dict[str, object] = {}
    content_type = ""
    for name, raw in pairs:
        value = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        lower = name.lower()
        if lower.startswith(prefix):
            # HTTP header values are percent-encoded (CloudEvents HTTP binding, 3.1.3.2)
            attributes[lower[len(prefix) :]] = unquote(value) if prefix == HTTP_PREFIX else value
        elif lower in _CONTENT_TYPES:
            content_type = value
    if "specversion" not in attributes:
        return None
    if content_type:
        attributes["datacontenttype"] = content_type
    attributes["data_base64"] = base64.b64encode(body).decode()  # read as JSON by the parser
    return orjson.dumps(attributes)
