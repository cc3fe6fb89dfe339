"""One delivery attempt against a real local HTTP server: what each answer means.

A 2xx delivers; 5xx, 408/425/429, a timeout and a refused connection are retried; any other
4xx is final. The request carries the body and the id headers a receiver dedups on.
"""

import asyncio

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from models.notification import Notification
from models.notifications import Channel, Delivery, Notifications
from streams.local.broker import free_port
from streams.notify_delivery import Outcome, attempt

pytestmark = pytest.mark.integration
EVENT = {
    "event_id": "e1",
    "incident_id": "i1",
    "kind": "escalated",
    "severity": "P0",
    "status": "detected",
    "service": "pay",
    "services": ["pay"],
    "title": "PaymentsDown",
    "at": "2026-12-01T00:00:00.000Z",
    "details": {"step": "2", "page": "1", "notify": "hook"},
}


async def _answers(statuses: dict[str, int], seen: list) -> TestServer:
    async def handle(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.headers), await request.read()))
        if request.path == "/slow":
            await asyncio.sleep(2)
        return web.Response(status=statuses.get(request.path, 200), text="no such hook")

    app = web.Application()
    app.router.add_post("/{name}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def _notifications(url: str) -> Notifications:
    return Notifications(
        {"hook": Channel("hook", "webhook", url, headers=(("Authorization", "Bearer t"),))},
        delivery=Delivery(timeout_s=0.5),
    )


@pytest.mark.parametrize(
    ("path", "status", "outcome"),
    [
        ("ok", 204, Outcome.DELIVERED),
        ("busy", 503, Outcome.RETRY),
        ("limited", 429, Outcome.RETRY),
        ("gone", 404, Outcome.REFUSED),
        ("unauthorised", 401, Outcome.REFUSED),
        ("slow", 200, Outcome.RETRY),  # answers after the 0.5 s timeout
    ],
)
def test_each_answer_means_what_it_says(path: str, status: int, outcome: Outcome) -> None:
    async def run() -> tuple:
        seen: list = []
        server = await _answers({f"/{path}": status}, seen)
        try:
            note = Notification("n1", "hook", "i1", "escalated step 2", EVENT)
            async with aiohttp.ClientSession() as session:
                return await attempt(session, note, _notifications(str(server.make_url(f"/{path}")))), seen
        finally:
            await server.close()

    tried, seen = asyncio.run(run())
    assert tried.outcome is outcome, tried
    (_, headers, raw), *_ = seen
    assert headers["Idempotency-Key"] == "n1" == headers["X-Tocsin-Notification-Id"]
    assert headers["Authorization"] == "Bearer t"
    assert orjson.loads(raw)["event"]["details"]["step"] == "2"
    if outcome is Outcome.REFUSED:
        assert tried.detail == f"HTTP {status}: no such hook"


def test_a_receiver_not_listening_is_retried() -> None:
    async def run() -> object:
        note = Notification("n1", "hook", "i1", "escalated step 2", EVENT)
        async with aiohttp.ClientSession() as session:
            return await attempt(session, note, _notifications(f"http://127.0.0.1:{free_port()}/hook"))

    tried = asyncio.run(run())
    assert tried.outcome is Outcome.RETRY and "Connect" in tried.detail


def test_a_channel_gone_from_the_policy_is_refused() -> None:
    async def run() -> object:
        note = Notification("n1", "removed", "i1", "opened", EVENT)
        async with aiohttp.ClientSession() as session:
            return await attempt(session, note, _notifications("http://127.0.0.1:1/hook"))

    assert asyncio.run(run()).outcome is Outcome.REFUSED
