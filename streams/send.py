"""``tocsin send``: publish a JSONL file of inputs to the right topics, for replay and tests.

Each line is one input. Its kind is recognised by shape — a command has ``action`` and
``incident_id``, a check result ``check`` and ``status``, a user report ``reporter``;
anything else is an alert payload — or named by wrapping it: ``{"topic": "checks",
"value": {…}}`` (change events always: ``{"topic": "changes", "value": {…}}``). Without
``--broker`` inputs go through the running instance's HTTP API.
"""

import asyncio
from collections import Counter

import orjson
from aiokafka import AIOKafkaProducer

from streams.client import post_json
from streams.settings import Settings
from streams.topics import TopicNames

KINDS = ("alerts", "checks", "reports", "commands", "changes")
ENDPOINTS = {"alerts": "/v1/events", "checks": "/v1/checks", "reports": "/v1/reports", "changes": "/v1/changes"}


def classify(line: object) -> tuple[str, object]:
    """(kind, value) of one JSONL line."""
    if isinstance(line, dict) and line.get("topic") in KINDS and "value" in line:
        return line["topic"], line["value"]
    if isinstance(line, dict):
        if "action" in line and "incident_id" in line:
            return "commands", line
        if "check" in line and "status" in line:
            return "checks", line
        if "reporter" in line:
            return "reports", line
    return "alerts", line


def parse_lines(lines: list[bytes]) -> list[tuple[str, object]]:
    return [classify(orjson.loads(line)) for line in lines if line.strip()]


def send_lines(lines: list[bytes], settings: Settings, url: str, via_kafka: bool) -> Counter:
    items = parse_lines(lines)
    if via_kafka:
        asyncio.run(_produce(items, settings))
    else:
        for kind, value in items:
            _post(kind, value, url)
    return Counter(kind for kind, _ in items)


def _post(kind: str, value: object, url: str) -> None:
    if kind == "commands":
        target = f"{url}/v1/incidents/{value['incident_id']}/{value['action']}"
    else:
        target = url + ENDPOINTS[kind]
    status, answer = post_json(target, value)
    if status != 202:
        raise SystemExit(f"{target} answered {status}: {answer}")


async def _produce(items: list[tuple[str, object]], settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    topics = dict(zip(KINDS, names.inputs, strict=True))
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(topics[kind], orjson.dumps(value), key=_key(kind, value)) for kind, value in items
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _key(kind: str, value: object) -> bytes | None:
    if not isinstance(value, dict):
        return None
    field = {"checks": "check", "reports": "service", "commands": "incident_id", "changes": "service"}.get(kind)
    key = value.get("groupKey") if kind == "alerts" else value.get(field)
    return str(key).encode() if key else None
