"""CloudEvents producers point at tocsin unchanged (HTTP in → Kafka → engine → events out),
with events made by the CloudEvents SDK: HTTP binary and batch mode on ``/v1/events``, and
the Kafka protocol binding (binary mode, ``ce_`` headers) on ``tocsin.alerts`` — each with the
producer's own event type, which the policy's ``cloudevents.types`` maps to a format.
"""

import asyncio
import json
from dataclasses import replace

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from cloudevents.kafka import to_binary as to_kafka_binary

from models.policy import load_policy
from streams.settings import Settings
from streams.topics import TopicNames
from tests.support.stack import post, read_until, running_tocsin

pytestmark = pytest.mark.integration
POLICY = "cloudevents: {types: [{type: 'com.example.alert.*', format: tocsin.signal}]}\n"


def event(service: str) -> CloudEvent:
    attributes = {"type": "com.example.alert.firing", "source": "/probes/eu", "datacontenttype": "application/json"}
    return CloudEvent(attributes, {"service": service, "title": f"{service} is down", "status": "firing"})


async def produce_binary(bootstrap: str, topic: str, service: str) -> None:
    message = to_kafka_binary(event(service), data_marshaller=orjson.dumps)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, message.value, headers=list(message.headers.items()))
    finally:
        await producer.stop()


def test_sdk_events_over_http_binary_batch_and_kafka_binary_open_incidents(settings: Settings, clickhouse) -> None:
    settings = replace(settings, policy=load_policy(POLICY))
    names = TopicNames(settings.topic_prefix)
    services = {"binary-http", "batch-a", "batch-b", "binary-kafka"}

    async def scenario() -> tuple[list, list]:
        async with running_tocsin(settings, clickhouse):
            url = f"{settings.base_url}/v1/events"
            headers, body = to_binary(event("binary-http"))
            answers = [await post(url, body, dict(headers))]
            batch = b"[" + b",".join(to_structured(event(s))[1] for s in ("batch-a", "batch-b")) + b"]"
            answers.append(await post(url, batch, {"Content-Type": "application/cloudevents-batch+json"}))
            await produce_binary(settings.bootstrap_servers, names.alerts, "binary-kafka")

            def done(records: list) -> bool:
                return {json.loads(r.value)["service"] for r in records} >= services

            records = await read_until(settings.bootstrap_servers, names.incidents, done, 30)
        return answers, [json.loads(r.value) for r in records]

    answers, events = asyncio.run(scenario())
    assert [(status, body["accepted"]) for status, body in answers] == [(202, 1), (202, 2)]
    opened = {e["service"]: e for e in events if e["kind"] == "opened"}
    assert set(opened) == services
    assert opened["binary-http"]["title"] == "binary-http is down"
