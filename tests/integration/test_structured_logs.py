"""Trace ids from the HTTP edge to the dead-letter record and the incident log lines."""

import asyncio
import io
import logging

import orjson
import pytest

from streams.logs import json_formatter
from streams.settings import Settings
from streams.topics import TopicNames
from tests.integration.test_topology import am_alert, kinds_for, now_ms, webhook
from tests.support.stack import post, read_topic, running_tocsin

pytestmark = pytest.mark.integration
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_trace_id_follows_an_input_to_the_dlq_and_the_incident_log(settings: Settings, clickhouse, caplog) -> None:
    names = TopicNames(settings.topic_prefix)
    good = am_alert("DiskFull", "vault", now_ms() - 60_000)
    bad = {**am_alert("DiskFull", "vault", now_ms()), "startsAt": "yesterday"}
    caplog.set_level(logging.INFO, logger="streams")

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse):
            traceparent = {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}
            status, answer = await post(f"{settings.base_url}/v1/alertmanager", webhook(good, bad), traceparent)
            assert (status, answer["trace_id"], answer["rejected"]) == (202, TRACE, 1)
            incident = (await kinds_for(clickhouse, settings, "vault", "opened"))[0]["incident_id"]
            dead = await read_topic(settings.bootstrap_servers, names.dlq, 1)
            assert dict(dead[0].headers)["trace_id"] == TRACE.encode()

            opened = [r for r in caplog.records if getattr(r, "incident_id", "") == incident]
            assert [(r.kind, r.severity, r.trace_id) for r in opened] == [("opened", "P3", TRACE)]
            line = orjson.loads(json_formatter().format(opened[0]))
            assert {k: line[k] for k in ("level", "incident_id", "trace_id", "fingerprint", "kind")} == {
                "level": "INFO",
                "incident_id": incident,
                "trace_id": TRACE,
                "fingerprint": opened[0].fingerprint,
                "kind": "opened",
            }
            rejected = [r for r in caplog.records if getattr(r, "reason", "") == "bad_timestamp"]
            assert rejected and rejected[0].trace_id == TRACE and rejected[0].source_topic == "http:/v1/alertmanager"

            _, answer = await post(f"{settings.base_url}/v1/alertmanager", webhook(good))
            assert len(answer["trace_id"]) == 32 and answer["trace_id"] != TRACE  # a new id when none is given

    asyncio.run(scenario())


def test_text_lines_carry_the_context_and_json_lines_parse() -> None:
    from streams.logs import configure

    for log_format in ("text", "json"):
        stream = io.StringIO()
        configure(log_format, "info", stream)
        logging.getLogger("streams.test").info("incident opened", extra={"incident_id": "abc-1", "trace_id": "t1"})
        line = stream.getvalue().strip()
        if log_format == "text":
            assert line.endswith("streams.test: incident opened [incident_id=abc-1 trace_id=t1]"), line
        else:
            assert orjson.loads(line) | {"time": "x"} == {
                "time": "x",
                "level": "INFO",
                "logger": "streams.test",
                "message": "incident opened",
                "incident_id": "abc-1",
                "trace_id": "t1",
            }
    logging.getLogger().handlers.clear()
