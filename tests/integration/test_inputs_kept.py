"""Every engine input is kept whole in ClickHouse, in the order the engine applied it.

In-process on the real broker and chDB: an Alertmanager webhook, a check result, a user
report and a command go in over HTTP; each ``signals`` row must hold the input exactly as
the engine read it (``payload`` decodes to an equal input), its key, its place in
``tocsin.signals`` (partition, offset, position), and the labels as a map analysts query.
"""

import asyncio
import json
import time

import pytest

from models.check import CheckResult
from models.report import UserReport
from models.signal import Signal
from models.timestamps import format_ms
from streams.codec import decode_item, encode_item
from streams.settings import Settings
from tests.support.stack import post, query_rows, running_tocsin, wait_for

pytestmark = pytest.mark.integration
KINDS = {Signal: "signal", CheckResult: "check", UserReport: "report"}


def test_inputs_are_kept_whole_and_in_order(settings: Settings, clickhouse) -> None:
    t = (int(time.time()) - 600) * 1000
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": name, "service": "cart", "team": "payments"},
            "annotations": {"summary": f"{name} on cart", "runbook_url": "https://runbooks/cart"},
            "startsAt": format_ms(t),
            "endsAt": "0001-01-01T00:00:00Z",
        }
        for name in ("Errors", "Latency", "Saturation")
    ]
    check = {
        "check": "http",
        "service": "cart",
        "status": "fail",
        "observed_at": format_ms(t),
        "probe": "p",
        "region": "eu",
    }
    report = {
        "service": "cart",
        "reporter": "ann",
        "summary": "cannot pay",
        "reported_at": format_ms(t),
        "channel": "ticket",
    }

    async def scenario() -> list[dict]:
        async with running_tocsin(settings, clickhouse):
            base = settings.base_url
            body = json.dumps({"version": "4", "status": "firing", "alerts": alerts}).encode()
            assert (await post(f"{base}/v1/alertmanager", body))[0] == 202
            assert (await post(f"{base}/v1/alertmanager", body))[0] == 202  # re-sent: kept by reference
            assert (await post(f"{base}/v1/checks", json.dumps(check).encode()))[0] == 202
            assert (await post(f"{base}/v1/reports", json.dumps(report).encode()))[0] == 202
            sql = (  # labels and annotations are MATERIALIZED: named, since * leaves them out
                f"SELECT *, labels, annotations FROM {settings.database}.signals FINAL "
                "ORDER BY partition, offset, position"
            )
            return await wait_for(lambda: (rows := query_rows(clickhouse, sql)) and len(rows) >= 8 and rows, 30, "rows")

    rows = asyncio.run(scenario())
    resent = [r for r in rows if r["outcome"] == "duplicate"]
    inputs = [r for r in rows if r["input"] not in ("command", "tick") and r["outcome"] != "duplicate"]
    assert len(inputs) == 5 and len(resent) == 3
    originals = {r["fingerprint"]: decode_item(r["payload"]) for r in inputs if r["input"] == "signal"}
    for row in resent:  # no payload again: the content hash of the input it repeats
        assert row["payload"] == "" and row["content"] == originals[row["fingerprint"]].content_hash
    for row in inputs:
        decoded = decode_item(row["payload"])
        assert encode_item(decoded).decode() == row["payload"]  # whole: it encodes back to the same bytes
        assert (row["input"], row["service"], row["key"]) == (KINDS[type(decoded)], decoded.service, "cart")
        assert row["token"]
    alerts_in = [r for r in inputs if r["input"] == "signal" and r["source"] == "alertmanager"]
    assert [r["title"] for r in alerts_in] == ["Errors on cart", "Latency on cart", "Saturation on cart"]
    assert [r["position"] for r in alerts_in] == [0, 1, 2] and len({r["offset"] for r in alerts_in}) == 1
    assert all(r["labels"]["team"] == "payments" and r["annotations"]["runbook_url"] for r in alerts_in)
    noisiest = query_rows(
        clickhouse,
        f"SELECT labels['alertname'] AS alertname, count() AS n FROM {settings.database}.signals "
        "WHERE input = 'signal' GROUP BY alertname ORDER BY alertname",
    )
    assert [r["alertname"] for r in noisiest] == ["Errors", "Latency", "Saturation"]
