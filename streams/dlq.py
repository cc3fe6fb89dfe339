"""The dead-letter topic: one record per refused input record, never one per refused item.

A record's value is what was refused, verbatim: the input record (or HTTP body) once,
however many of its items were refused. Only when that is larger than a Kafka record may
be (``MAX_VALUE``) does the value become the refused items themselves, as JSON arrays
split across records, so the topic never holds more bytes than the input did. Every
rejection is listed in the ``rejections`` header — each index with its reason (as ranges)
and the first details — so the header stays small whatever the input. See
``docs/events.md`` for the format and how to re-drive fixed records.

A per-source byte budget keeps one broken or hostile sender from filling the topic: past
it, the record keeps its headers but not the payload, and
``tocsin_dlq_budget_exceeded_total{source}`` counts it (a tocsin self-alert watches it).
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import faust
import orjson
from faust.types import EventT

from models.errors import Rejection
from streams import tracing
from streams.metrics import DEAD_LETTER_BYTES, DEAD_LETTERS, DLQ_BUDGET_EXCEEDED

log = logging.getLogger(__name__)

MAX_VALUE = 900_000  # below Kafka's default message.max.bytes (1,048,588) with room for headers
MAX_DETAILS = 20
DETAIL_CHARS = 200


def _ranges(indices: list[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1-3,7"``: every index, in a few bytes."""
    parts: list[str] = []
    start = prev = None
    for index in sorted(indices):
        if prev is not None and index == prev + 1:
            prev = index
            continue
        if start is not None:
            parts.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = index
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(parts)


def summary(rejections: list[Rejection]) -> bytes:
    """The ``rejections`` header: count, every index by reason, the first details."""
    by_reason: dict[str, list[int]] = {}
    whole: set[str] = set()
    for r in rejections:
        if r.index is None:
            whole.add(str(r.reason))
        else:
            by_reason.setdefault(str(r.reason), []).append(r.index)
    listed: dict[str, object] = {"count": len(rejections)}
    if whole:
        listed["whole"] = sorted(whole)
    if by_reason:
        listed["items"] = {reason: _ranges(indices) for reason, indices in sorted(by_reason.items())}
    if len(rejections) > 1:  # one rejection: the ``reason`` and ``detail`` headers say it all
        listed["details"] = [
            {"index": r.index, "reason": str(r.reason), "detail": r.detail[:DETAIL_CHARS]}
            for r in rejections[:MAX_DETAILS]
        ]
    return orjson.dumps(listed)


def main_reason(rejections: list[Rejection]) -> str:
    return Counter(str(r.reason) for r in rejections).most_common(1)[0][0]


def values(raw: bytes, rejections: list[Rejection], max_value: int = MAX_VALUE) -> list[tuple[bytes, str]]:
    """The record values that carry ``raw``'s refused part, each with what it holds."""
    if len(raw) <= max_value:
        return [(bytes(raw), "record")]
    items = [orjson.dumps(r.item) for r in rejections if r.item is not None]
    if not items:
        return [(bytes(raw[:max_value]), "truncated")]
    chunks: list[tuple[bytes, str]] = []
    current: list[bytes] = []
    size = 2
    for item in items:
        if current and size + len(item) + 1 > max_value:
            chunks.append((b"[" + b",".join(current) + b"]", "items"))
            current, size = [], 2
        current.append(item[: max_value - 2])
        size += len(current[-1]) + 1
    chunks.append((b"[" + b",".join(current) + b"]", "items"))
    return chunks


@dataclass
class Budget:
    """Bytes per source per minute the DLQ keeps whole; the rest keep only their headers."""

    bytes_per_minute: int = 16 << 20
    spent: dict[str, tuple[int, int]] = field(default_factory=dict)  # source → (minute, bytes)
    warned: dict[str, int] = field(default_factory=dict)

    def allow(self, source: str, size: int, now: float | None = None) -> bool:
        minute = int((time.time() if now is None else now) // 60)
        current, spent = self.spent.get(source, (minute, 0))
        spent = spent if current == minute else 0
        if spent + size > self.bytes_per_minute:
            self.spent[source] = (minute, spent)
            return False
        self.spent[source] = (minute, spent + size)
        return True

    def first_refusal_this_minute(self, source: str, now: float | None = None) -> bool:
        minute = int((time.time() if now is None else now) // 60)
        if self.warned.get(source) == minute:
            return False
        self.warned[source] = minute
        return True


BUDGET = Budget()


def origin_headers(event: EventT | None) -> list[tuple[str, bytes]]:
    if event is None:
        return []
    message = event.message
    return [
        ("source_topic", message.topic.encode()),
        ("source_partition", str(message.partition).encode()),
        ("source_offset", str(message.offset).encode()),
        *tracing.kafka_headers(tracing.from_kafka(message.headers)),
    ]


def _context(source: str, rejections: list[Rejection], event: EventT | None, trace_id: str) -> dict[str, object]:
    context: dict[str, object] = {"reason": main_reason(rejections), "source_topic": source, "trace_id": trace_id}
    if event is not None:
        message = event.message
        context.update(source_partition=message.partition, source_offset=message.offset)
        context["trace_id"] = tracing.from_kafka(message.headers)
    return context


async def dead_letter(
    topic: faust.TopicT,
    raw: bytes | None,
    rejections: Rejection | list[Rejection],
    event: EventT | None = None,
    *,
    source: str = "",
    trace_id: str = "",
    budget: Budget = BUDGET,
) -> None:
    """Publish ``raw``'s refusal to the DLQ (once, however many items) and await the ack."""
    rejections = [rejections] if isinstance(rejections, Rejection) else rejections
    source = source or (event.message.topic if event is not None else "http")
    raw = raw or b""
    context = _context(source, rejections, event, trace_id)
    first = rejections[0]
    log.warning(
        "dead-lettered input: %d rejection(s), %s (%s)",
        len(rejections),
        context["reason"],
        first.detail[:200],
        extra=context,
    )
    for reason, count in Counter(str(r.reason) for r in rejections).items():
        DEAD_LETTERS.labels(source, reason).inc(count)
    headers = [
        ("reason", str(context["reason"]).encode()),
        ("detail", first.detail[:DETAIL_CHARS].encode()),
        ("rejections", summary(rejections)),
        ("source", source.encode()),
        *origin_headers(event),
    ]
    if event is None and trace_id:
        headers += tracing.kafka_headers(trace_id)
    futures = []
    for value, content in values(raw, rejections):
        kept = value
        if not budget.allow(source, len(value)):
            DLQ_BUDGET_EXCEEDED.labels(source).inc()
            if budget.first_refusal_this_minute(source):
                log.warning(
                    "dead-letter budget of %s exceeded: keeping headers only this minute", source, extra=context
                )
            kept, content = b"", f"dropped:{len(value)}"
        DEAD_LETTER_BYTES.labels(source).inc(len(kept))
        futures.append(await topic.send(value=kept, headers=[*headers, ("content", content.encode())]))
    for future in futures:
        await future
